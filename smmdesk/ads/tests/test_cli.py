"""`smmdesk ads list` and `smmdesk ads import-stats`: output and exit codes."""

import pytest
from click.testing import CliRunner

from smmdesk.ads.cli import ads
from smmdesk.ads.models import Platform, StatRow
from smmdesk.ads.tests.a2_fixtures import campaign
from smmdesk.ads.tests.test_stats import YANDEX

pytestmark = pytest.mark.django_db


def run(*args):
    return CliRunner().invoke(ads, [*map(str, args)])


def test_list_all_and_by_workspace(cast):
    first = campaign(cast.workspace, Platform.YANDEX_DIRECT, name="Весна  мужские")
    second = campaign(cast.other, Platform.VK_ADS)
    result = run("list")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{first.pk} salon contextual yandex Весна мужские\n{second.pk} rival targeting vk Весна vk\n"
    )
    assert run("list", "--workspace", "rival").stdout == f"{second.pk} rival targeting vk Весна vk\n"
    missing = run("list", "--workspace", "nowhere")
    assert missing.exit_code == 2 and "no workspace" in missing.stderr


def test_import_stats_counts_bad_rows_and_exit_1(cast, tmp_path):
    path = tmp_path / "direct.csv"
    path.write_bytes(YANDEX.encode("cp1251"))
    result = run("import-stats", path, "--workspace", "salon", "--platform", "yandex")
    assert result.exit_code == 1
    assert result.stdout == "imported 2 rows, 1 bad rows\n"
    assert "row 5, date:" in result.stderr and "row 5, clicks: Not a number." in result.stderr
    assert StatRow.objects.filter(workspace=cast.workspace).count() == 2


def test_import_stats_all_good_exits_0(cast, tmp_path):
    path = tmp_path / "direct.csv"
    path.write_text("\n".join(YANDEX.splitlines()[:4]) + "\n", encoding="utf-8")
    result = run("import-stats", path, "--workspace", "salon", "--platform", "yandex")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "imported 2 rows, 0 bad rows\n", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace", "nowhere", "--platform", "yandex"], "no workspace"),
        (["--workspace", "salon", "--platform", "yandex", "--mapping", "[1]"], "--mapping"),
        (["--workspace", "salon", "--platform", "yandex", "--mapping", '{"nope": 1}'], "mapping"),
    ],
)
def test_import_stats_unusable_input_exits_2(cast, tmp_path, args, message):
    path = tmp_path / "direct.csv"
    path.write_text(YANDEX, encoding="utf-8")
    result = run("import-stats", path, *args)
    assert result.exit_code == 2 and message in result.stderr
    assert not StatRow.objects.exists()


def test_import_stats_unreadable_file_exits_2(cast, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"just one line, nothing like a report\n")
    result = run("import-stats", path, "--workspace", "salon", "--platform", "google")
    assert result.exit_code == 2 and "not recognised" in result.stderr
    assert (
        run("import-stats", tmp_path / "none.csv", "--workspace", "salon", "--platform", "vk").exit_code == 2
    )
