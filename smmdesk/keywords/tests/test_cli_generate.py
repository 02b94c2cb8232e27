import csv

import pytest
from click.testing import CliRunner

from smmdesk.keywords.cli import keywords
from smmdesk.keywords.models import Keyword
from smmdesk.keywords.tests.k1_fixtures import *  # noqa: F403


def _run(*args):
    return CliRunner().invoke(keywords, ["generate", *map(str, args)])


@pytest.mark.django_db
def test_generate_prints_the_count_and_writes_the_csv(salon, tmp_path):
    out = tmp_path / "queries.csv"
    result = _run("--workspace", "salon", "--out", out)
    assert result.exit_code == 0, result.output
    kept = Keyword.objects.filter(workspace=salon.workspace, excluded=False)
    assert f"{Keyword.objects.filter(workspace=salon.workspace).count()} queries" in result.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["query", "kind", "intent", "cluster", "volume"]
    assert len(rows) - 1 == kept.count()
    by_query = {row[0]: row for row in rows[1:]}
    row = by_query["женская стрижка в Ленинском районе Оренбурга"]
    assert row[1] == "direct"
    assert row[2] in {"commercial", "local"}
    clustered = kept.get(query=row[0]).cluster
    assert row[3] == (clustered.name if clustered else "")
    assert by_query["как подстричь волосы"][1:3] == ["indirect", "informational"]


@pytest.mark.django_db
def test_a_second_run_creates_nothing_new(salon):
    _run("--workspace", "salon")
    again = _run("--workspace", "salon")
    assert again.exit_code == 0
    assert "(0 new" in again.output


@pytest.mark.django_db
def test_unknown_workspace_exits_2(cast):
    result = _run("--workspace", "nowhere")
    assert result.exit_code == 2
    assert "no workspace 'nowhere'" in result.output


@pytest.mark.django_db
def test_unwritable_out_file_exits_2(salon, tmp_path):
    result = _run("--workspace", "salon", "--out", tmp_path / "missing" / "q.csv")
    assert result.exit_code == 2
    assert "cannot write" in result.output
