"""The report's XLSX (read back with openpyxl) and CSV exports, and formula-safe text in both."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from smmdesk.audience import actions
from smmdesk.audience.models import Order

from .report_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

MARCH_1, MARCH_31 = date(2026, 3, 1), date(2026, 3, 31)


def march(cast):
    return actions.report(cast.workspace, MARCH_1, MARCH_31)


def sheet_rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def blocks(text: str) -> dict[str, list[list[str]]]:
    """The CSV's tables by name: each starts after an empty line with a line naming it."""
    rows = list(csv.reader(io.StringIO(text)))
    found, name = {}, None
    for row in rows[1:]:
        if not row:
            name = None
        elif name is None:
            name = row[0]
            found[name] = []
        else:
            found[name].append(row)
    return found


def test_xlsx_has_one_sheet_per_table(cast, hairdresser):
    book = load_workbook(io.BytesIO(actions.export_xlsx(march(cast))))
    assert book.sheetnames == ["services", "gender", "ages", "districts", "sources"]

    services = book["services"]
    assert sheet_rows(services)[0] == [
        "Service",
        "Orders",
        "Share",
        "Revenue",
        "Revenue share",
        "Orders in the previous period",
        "Change",
    ]
    # All services: 12 orders, 11900, 8 before: (12 - 8) / 8 = 0.5
    assert sheet_rows(services)[1] == ["All services", 12, 1, 11900, 1, 8, 0.5]
    assert sheet_rows(services)[2] == ["Women's haircut", 5, 0.4167, 6300, 0.5294, 4, 0.25]
    assert sheet_rows(services)[5] == ["Wedding hairstyle", 1, 0.0833, 3000, 0.2521, 0, None]
    assert services["C3"].number_format == "0.00%" and services["D3"].number_format == "#,##0.00"

    assert sheet_rows(book["gender"])[:3] == [
        ["Service", "Female", "Male", "Unknown"],
        ["All services", 0.5, 0.3333, 0.1667],
        ["Women's haircut", 0.8, 0, 0.2],
    ]
    ages = sheet_rows(book["ages"])
    assert ages[0] == ["Service", "<18", "18-24", "25-34", "35-44", "45-54", "55+", "Unknown"]
    assert ages[3] == ["Men's haircut", 0, 0.25, 0.25, 0.25, 0, 0, 0.25]

    districts = sheet_rows(book["districts"])
    assert districts[0] == ["Service", "District", "Share"]
    assert districts[1:5] == [
        ["All services", "Leninsky", 0.5833],
        ["All services", "Central", 0.25],
        ["All services", "Promyshlenny", 0.0833],
        ["All services", "Unknown", 0.0833],
    ]
    assert ["Children's haircut", "Leninsky", 1] in districts
    assert ["Women's haircut", "telegram", 0.2] in sheet_rows(book["sources"])


def test_csv_holds_the_same_tables(cast, hairdresser):
    text = actions.export_csv(march(cast))
    assert text.splitlines()[0] == "Audience report,2026-03-01,2026-03-31"
    tables = blocks(text)
    assert list(tables) == ["services", "gender", "ages", "districts", "sources"]
    assert tables["services"][1] == ["All services", "12", "1.0000", "11900.00", "1.0000", "8", "0.5000"]
    assert tables["services"][5] == ["Wedding hairstyle", "1", "0.0833", "3000.00", "0.2521", "0", ""]
    assert tables["gender"][2] == ["Women's haircut", "0.8000", "0.0000", "0.2000"]
    assert ["Men's haircut", "Unknown", "0.2500"] in tables["districts"]


def test_text_that_looks_like_a_formula_stays_text(cast, services):
    for order_id, name, district, source in (
        ("1", '=HYPERLINK("http://evil.example","x")', "+7 district", "@source"),
        ("2", "-2+3", "=1+1", "\tvk"),
    ):
        Order.objects.create(
            workspace=cast.workspace,
            order_id=order_id,
            date=MARCH_1,
            service_name=name,
            district=district,
            source=source,
            price=Decimal("100"),
        )
    data = march(cast)
    text = actions.export_csv(data)
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert '\'=HYPERLINK("http://evil.example","x")' in cells
    assert {"'-2+3", "'+7 district", "'=1+1", "'@source", "'\tvk"} <= set(cells)
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t")]

    book = load_workbook(io.BytesIO(actions.export_xlsx(data)))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    names = [row[0] for row in sheet_rows(book["services"])]
    assert '\'=HYPERLINK("http://evil.example","x")' in names and "'-2+3" in names
    assert ["All services", "'=1+1", 0.5] in sheet_rows(book["districts"])


def test_empty_report_exports(cast):
    data = march(cast)
    book = load_workbook(io.BytesIO(actions.export_xlsx(data)))
    assert sheet_rows(book["services"])[1] == ["All services", 0, 0, 0, 0, 0, None]
    assert len(sheet_rows(book["districts"])) == 1
    assert blocks(actions.export_csv(data))["sources"] == [["Service", "Source", "Share"]]
