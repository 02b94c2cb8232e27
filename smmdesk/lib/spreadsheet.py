"""Spreadsheet safety, shared by every CSV/XLSX export and every XLSX import.

Exports: a spreadsheet runs a cell that starts with "=", "+", "-", "@", a tab or a carriage return as a
formula (CSV injection: `=cmd|' /C calc'!A0`, `=HYPERLINK(...)`), so every cell of text that came from a
user, an import or a network goes through safe_cell, which puts an apostrophe in front. Spreadsheets show
that apostrophe as the text marker, not as part of the text. A cell in a platform's own syntax, where a
leading "+" or "-" means something (a keyword's operators), goes through safe_operator_cell instead.
unquote_cell undoes safe_cell for the importers that read our own files back.

Imports: an XLSX file is a ZIP, and a few kilobytes can unpack to gigabytes (a "zip bomb") or hold
thousands of entries. check_xlsx reads the ZIP's directory, not its content, and refuses such a file
before openpyxl opens it. The sizes it reads are the ones the file declares: zipfile never unpacks more
than an entry declares, so a lie about them only cuts the entry short (openpyxl then reports it damaged).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from django.utils.translation import gettext as _

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# In a keyword column "+" and "-" are the platforms' operators (a fixed stop word, a minus word); with
# any of these characters as well the cell could still be a formula, which no keyword needs.
FORMULA_CHARACTERS = frozenset("=|()")

# A real workbook has a few dozen entries; a sheet of a million rows unpacks to a few hundred MB and
# compresses about ten times; the shared strings are held in memory whole by openpyxl.
MAX_ENTRIES = 1_000
MAX_UNPACKED = 1024 * 1024 * 1024
MAX_SHARED_STRINGS = 64 * 1024 * 1024
MAX_RATIO = 200
RATIO_FROM = 16 * 1024 * 1024


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text, never runs: formula-like text gets a leading apostrophe."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def safe_operator_cell(value) -> str:
    """safe_cell for a column in an ads platform's keyword syntax: a leading "+" or "-" stays an operator
    unless the cell also holds characters only a formula would."""
    text = "" if value is None else str(value)
    if text.startswith(("+", "-")) and not FORMULA_CHARACTERS.intersection(text):
        return text
    return safe_cell(text)


def unquote_cell(text: str) -> str:
    """The text safe_cell was given (for reading our own exports back)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


class WorkbookError(ValueError):
    """An XLSX file that cannot be read; the message says why, for the person uploading it."""


class UnsafeWorkbook(WorkbookError):
    """The XLSX file is refused before it is opened."""


def check_xlsx(source: bytes | str | Path) -> None:
    """Refuse a workbook that would unpack to too much (raises UnsafeWorkbook). A file that is not a ZIP
    at all passes: openpyxl reports that in its own words."""
    opened = source if isinstance(source, str | Path) else io.BytesIO(source)
    try:
        with zipfile.ZipFile(opened) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    if len(entries) > MAX_ENTRIES:
        raise UnsafeWorkbook(
            _("The workbook holds %(count)d parts; a spreadsheet has at most %(limit)d.")
            % {"count": len(entries), "limit": MAX_ENTRIES}
        )
    total = 0
    for entry in entries:
        total += entry.file_size
        if entry.filename.lower().endswith("sharedstrings.xml") and entry.file_size > MAX_SHARED_STRINGS:
            raise UnsafeWorkbook(_too_big(entry.filename, MAX_SHARED_STRINGS))
        if entry.file_size > RATIO_FROM and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise UnsafeWorkbook(
                _(
                    "The workbook's part %(name)s unpacks to %(ratio)d times its size; it is not a real spreadsheet."
                )
                % {"name": entry.filename, "ratio": entry.file_size // max(entry.compress_size, 1)}
            )
    if total > MAX_UNPACKED:
        raise UnsafeWorkbook(_too_big(_("The workbook"), MAX_UNPACKED))


def _too_big(name: str, limit: int) -> str:
    return _("%(name)s unpacks to more than %(limit)d MB; split the file into smaller ones.") % {
        "name": name,
        "limit": limit // (1024 * 1024),
    }


def read_first_sheet(data: bytes, max_rows: int) -> list[tuple]:
    """The first sheet's rows as tuples of cell values (formulas as their cached values), at most
    max_rows + 1 of them, so the caller can tell a file that has too many. Raises WorkbookError."""
    from openpyxl import load_workbook

    check_xlsx(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign ZIP
        raise WorkbookError(_("This file cannot be read as an XLSX workbook.")) from exc
    try:
        if not book.worksheets:
            raise WorkbookError(_("The workbook has no sheet."))
        sheet = book.worksheets[0]
        # The declared size pads every row to it: a file may declare 16,384 columns and hold two.
        sheet.reset_dimensions()
        rows = []
        for cells in sheet.iter_rows(values_only=True):
            rows.append(cells)
            if len(rows) > max_rows:
                break
        return rows
    except WorkbookError:
        raise
    except Exception as exc:
        raise WorkbookError(_("The workbook is damaged and cannot be read to the end.")) from exc
    finally:
        book.close()
