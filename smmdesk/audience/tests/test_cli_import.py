"""`smmdesk audience import FILE --workspace SLUG [--mapping JSON]`: its output and exit codes."""

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from smmdesk.audience.cli import audience
from smmdesk.audience.models import ImportJob, Order
from smmdesk.audience.tests.fixtures.orders import HEADER, order_rows, write_csv, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 3, 20, 9, 0, tzinfo=UTC), tick=False)


def run(*args):
    return CliRunner().invoke(audience, ["import", *map(str, args)])


def test_import_prints_the_counts(cast, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [HEADER, *order_rows(3)], delimiter=";", encoding="cp1251")
    result = run(path, "--workspace", "salon")
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 3 orders (created 3, updated 0, unchanged 0)\n"
    assert Order.objects.filter(workspace=cast.workspace).count() == 3
    rows = [HEADER, *order_rows(3)]
    rows[1][3] = "650"
    write_csv(path, rows)
    again = run(path, "--workspace", "salon")
    assert again.stdout == "imported 3 orders (created 0, updated 1, unchanged 2)\n"


def test_unknown_services_are_named_on_stderr(cast, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [HEADER, *order_rows(2, service="Окрашивание")])
    result = run(path, "--workspace", "salon")
    assert result.exit_code == 0
    assert result.stderr == "services not in the profile, kept as written: Окрашивание (2)\n"


def test_bad_rows_exit_1_listing_each_and_import_nothing(cast, tmp_path):
    rows = [HEADER, *order_rows(2)]
    rows += [
        ["A7", "2026-13-01", "Cut", "1 200,5", "m", "", "", ""],
        ["A8", "2026-03-01", "", "12x", "m", "", "", ""],
    ]
    path = write_csv(tmp_path / "orders.csv", rows)
    result = run(path, "--workspace", "salon")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "row 4, date: There is no such day.",
        "row 5, service: The service is missing.",
        "row 5, price: Not a price; write it as 1200 or 1200.50.",
        "nothing imported: 3 errors",
    ]
    assert not Order.objects.exists()
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED


def test_mapping_by_header_name_and_index(cast, tmp_path):
    path = tmp_path / "orders.xlsx"
    path.write_bytes(xlsx_bytes([["Kód", "Kedy", "Čo"], ["K1", datetime(2026, 3, 1), "Cut"]]))
    assert run(path, "--workspace", "salon").exit_code == 2
    result = run(path, "--workspace", "salon", "--mapping", '{"order_id": "kód", "date": 1, "service": "Čo"}')
    assert result.exit_code == 0, result.output
    assert Order.objects.get().order_id == "K1"


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.csv", "--workspace", "salon"], "no such file: "),
        (["FILE", "--workspace", "nope"], "no workspace 'nope'"),
        (["FILE", "--workspace", "salon", "--mapping", "{order_id: 0"], "--mapping is not JSON"),
        (["FILE", "--workspace", "salon", "--mapping", "[0, 1]"], "--mapping must be a JSON object"),
        (
            ["FILE", "--workspace", "salon", "--mapping", '{"date": "When"}'],
            "mapping, date: There is no column When.",
        ),
        (
            ["FILE", "--workspace", "salon", "--mapping", '{"colour": 1}'],
            "mapping, colour: There is no field colour.",
        ),
        (
            ["FILE", "--workspace", "salon", "--mapping", '{"date": 99}'],
            "mapping, date: No such column in the file.",
        ),
        (["BINARY", "--workspace", "salon"], "This is not a CSV or XLSX file."),
        (["NOHEADERS", "--workspace", "salon"], "mapping, order_id: Choose the column with this field."),
    ],
)
def test_unusable_input_exits_2(cast, tmp_path, args, message):
    files = {
        "FILE": write_csv(tmp_path / "orders.csv", [HEADER, *order_rows(1)]),
        "BINARY": tmp_path / "data.bin",
        "NOHEADERS": write_csv(tmp_path / "plain.csv", [["a", "b", "c"], ["1", "2", "3"]]),
        "missing.csv": tmp_path / "missing.csv",
    }
    files["BINARY"].write_bytes(b"\x00\x01\x02" * 10)
    result = run(*[files.get(arg, arg) for arg in args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not Order.objects.exists() and not ImportJob.objects.exists()
