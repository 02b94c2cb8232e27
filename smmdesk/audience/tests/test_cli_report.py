"""`smmdesk audience report`: the JSON shape of the issue, CSV, and exit 2 for unusable input."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from smmdesk.audience.cli import audience
from smmdesk.cli import main

from .report_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def run(*args):
    return CliRunner().invoke(audience, ["report", *args])


def test_json_of_march(cast, hairdresser):
    result = run("--workspace", "salon", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["total_orders", "services"]
    assert data["total_orders"] == 12
    assert [row["service"] for row in data["services"]] == [
        "Women's haircut",
        "Men's haircut",
        "Children's haircut",
        "Wedding hairstyle",
    ]
    men = data["services"][1]
    assert list(men) == ["service", "orders", "share", "revenue", "gender", "age_groups", "districts"]
    # 4 of 12; 600 × 3 and M4 without a price; see test_report for the rest of the arithmetic.
    assert (men["orders"], men["share"], men["revenue"]) == (4, 0.3333, 1800)
    assert isinstance(men["revenue"], int | float)
    assert men["gender"] == {"female": 0.0, "male": 0.75, "unknown": 0.25}
    assert men["age_groups"] == {
        "<18": 0.0,
        "18-24": 0.25,
        "25-34": 0.25,
        "35-44": 0.25,
        "45-54": 0.0,
        "55+": 0.0,
        "unknown": 0.25,
    }
    assert men["districts"] == {"Leninsky": 0.5, "Central": 0.25, "unknown": 0.25}


def test_default_period_is_every_order(cast, hairdresser):
    result = run("--workspace", "salon")
    assert result.exit_code == 0
    # 12 in March, P1..P8 and X1 before it, X2 in April; never the rival's R1.
    assert json.loads(result.stdout)["total_orders"] == 22
    # Through the top-level command too.
    through_main = CliRunner().invoke(
        main, ["audience", "report", "--workspace", "rival", "--format", "json"]
    )
    assert through_main.exit_code == 0
    assert json.loads(through_main.stdout)["services"][0]["revenue"] == 3000


def test_cyrillic_names_are_printed_as_they_are(cast, hairdresser):
    from datetime import date

    from smmdesk.audience.models import Order

    Order.objects.create(
        workspace=cast.workspace, order_id="Z", date=date(2026, 3, 2), service_name="Окрашивание"
    )
    result = run("--workspace", "salon", "--from", "2026-03-02", "--to", "2026-03-02")
    assert "Окрашивание" in result.stdout
    assert json.loads(result.stdout)["services"][-1]["revenue"] == 0


def test_csv_format(cast, hairdresser):
    result = run("--workspace", "salon", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["Audience report", "2026-03-01", "2026-03-31"]
    assert ["All services", "12", "1.0000", "11900.00", "1.0000", "8", "0.5000"] in rows


@pytest.mark.parametrize(
    "args, message",
    [
        (["--workspace", "nowhere"], "no workspace 'nowhere'"),
        (["--workspace", "salon", "--from", "2026-13-01"], "--from '2026-13-01': expected a date"),
        (["--workspace", "salon", "--to", "01.03.2026"], "--to '01.03.2026': expected a date"),
        (["--workspace", "salon", "--from", "2026-03-31", "--to", "2026-03-01"], "cannot be before"),
        (["--workspace", "salon", "--from", "0001-01-01", "--to", "0001-01-02"], "later first day"),
        (["--workspace", "salon", "--format", "pdf"], "'pdf' is not one of"),
        ([], "Missing option '--workspace'"),
    ],
)
def test_unusable_input_exits_2(cast, hairdresser, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
