"""The audience report as files: XLSX with one sheet per table (services, gender, ages, districts,
sources) and CSV with the same tables one after another, each under a line naming it.

Shares stay fractions of 1 (the XLSX shows them with a percent format); every table's first row is the
whole business ("All services"). Text that came from an import (service, district and source names) is
written through safe_cell, so a spreadsheet shows "=HYPERLINK(...)" as text instead of running it; in the
XLSX it is also typed as a string, since openpyxl would store text starting with "=" as a formula.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook

from smmdesk.audience.report import AGE_GROUPS, GENDERS, UNKNOWN, change
from smmdesk.lib.spreadsheet import safe_cell

PERCENT = "0.00%"
MONEY = "#,##0.00"


class Text(str):
    """A cell of untrusted text (made formula-safe when written)."""


class Share(float):
    """A fraction of 1, shown as a percentage in the XLSX."""


def _label(key: str) -> str:
    return _("Unknown") if key == UNKNOWN else key


def _gender_header(key: str) -> str:
    return {"female": _("Female"), "male": _("Male")}.get(key, _("Unknown"))


def _rows(data: dict) -> list[tuple[str, dict]]:
    """("All services", the whole report) then each service's row."""
    return [(_("All services"), data), *((row["service"], row) for row in data["services"])]


def _services_table(data: dict) -> list[list]:
    total = data["total_orders"]
    previous = data["previous"]["total_orders"]
    growth = change(total, previous)
    rows = [
        [
            Text(_("All services")),
            total,
            Share(1.0 if total else 0.0),
            data["total_revenue"],
            Share(1.0 if data["total_revenue"] else 0.0),
            previous,
            None if growth is None else Share(growth),
        ]
    ]
    for row in data["services"]:
        rows.append(
            [
                Text(row["service"]),
                row["orders"],
                Share(row["share"]),
                row["revenue"],
                Share(row["revenue_share"]),
                row["previous_orders"],
                None if row["change"] is None else Share(row["change"]),
            ]
        )
    header = [_("Service"), _("Orders"), _("Share"), _("Revenue"), _("Revenue share")]
    header += [_("Orders in the previous period"), pgettext("difference from before", "Change")]
    return [header, *rows]


def _fixed_table(data: dict, key: str, columns: tuple[str, ...], headers: list[str]) -> list[list]:
    rows = [[Text(name), *(Share(row[key][column]) for column in columns)] for name, row in _rows(data)]
    return [[_("Service"), *headers], *rows]


def _long_table(data: dict, key: str, heading: str) -> list[list]:
    rows = [
        [Text(name), Text(_label(value)), Share(part)]
        for name, row in _rows(data)
        for value, part in row[key].items()
    ]
    return [[_("Service"), heading, _("Share")], *rows]


def tables(data: dict) -> list[tuple[str, list[list]]]:
    """(sheet name, rows with the header first) for each table of the report."""
    return [
        ("services", _services_table(data)),
        ("gender", _fixed_table(data, "gender", GENDERS, [_gender_header(g) for g in GENDERS])),
        ("ages", _fixed_table(data, "age_groups", AGE_GROUPS, [_label(group) for group in AGE_GROUPS])),
        ("districts", _long_table(data, "districts", _("District"))),
        ("sources", _long_table(data, "sources", _("Source"))),
    ]


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Text):
        return safe_cell(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def export_csv(data: dict) -> str:
    out = io.StringIO()
    # "\r\n", as RFC 4180 says: with "\n" alone the writer leaves a CR inside a cell unquoted, and a
    # spreadsheet starts a new row at it, where "=..." after it would run.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Audience report"), data["start"].isoformat(), data["end"].isoformat()])
    for name, rows in tables(data):
        writer.writerow([])
        writer.writerow([name])
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
    return out.getvalue()


def _write_cell(sheet, row: int, column: int, value) -> None:
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, Text):
        cell.value = safe_cell(value)
        cell.data_type = "s"
    elif isinstance(value, Share):
        cell.value = float(value)
        cell.number_format = PERCENT
    elif isinstance(value, Decimal):
        cell.value = value
        cell.number_format = MONEY
    else:
        cell.value = value


def export_xlsx(data: dict) -> bytes:
    book = Workbook()
    book.remove(book.active)
    book.properties.title = f"{_('Audience report')} {data['start'].isoformat()} – {data['end'].isoformat()}"
    for name, rows in tables(data):
        sheet = book.create_sheet(name)
        for row_number, row in enumerate(rows, start=1):
            for column, value in enumerate(row, start=1):
                _write_cell(sheet, row_number, column, value)
        sheet.freeze_panes = "B2"
        sheet.column_dimensions["A"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
