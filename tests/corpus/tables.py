"""Hostile CSV and XLSX files, built around an importer's own header and one good row.

`csv_cases(header, good, column)` and `xlsx_cases(header, good, column)` return Case objects: the file
bytes and a file name. `column` is the cell that gets the hostile text in the cases about cell content;
the other cases break the file as a whole (its encoding, its ZIP, its size). Every file that is readable
at all also carries the good row, so an importer that imports rows one by one has something to import
and an all-or-nothing importer has something it must not half-write.

The XLSX files are written by hand (a ZIP of a few XML parts, inline strings) so that the damaged and
malicious ones can be exactly as damaged as intended.
"""

from __future__ import annotations

import codecs
import csv
import io
import random
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

from tests.corpus import strings

BOMB_MB = 64


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    filename: str

    def __repr__(self):  # pytest ids and assertion messages: the name, never megabytes of bytes
        return f"Case({self.name}, {len(self.data)} bytes)"


def csv_text(rows: list[list[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerows(rows)
    return out.getvalue()


def _with(good: list[str], column: int, value, unique: int | None = None) -> list:
    """The good row with `value` in `column`; with `unique`, that column's id made different too, so an
    importer keyed on it sees a second record rather than the first one again."""
    row = list(good)
    if unique is not None:
        row[unique] = f"{row[unique]}-2"
    row[column] = value
    return row


def _splice(text: str, marker: str, raw: bytes, encoding: str = "utf-8") -> bytes:
    """The text encoded, with the bytes `raw` where `marker` stood (bytes no encoder would write)."""
    before, after = text.split(marker, 1)
    return before.encode(encoding) + raw + after.encode(encoding)


def csv_cases(
    header: list[str],
    good: list[str],
    column: int,
    number_column: int | None = None,
    delimiter: str = ",",
    unique: int | None = None,
) -> list[Case]:
    def table(*rows):
        return csv_text([header, good, *rows], delimiter)

    def bad(at: int, value: str) -> list[str]:
        return _with(good, at, value, unique)

    marker = "\ue000MARK\ue000"
    marked = table(bad(column, f"a{marker}b"))
    plain = table()
    cases = {
        "empty": b"",
        "bom_only": codecs.BOM_UTF8,
        "whitespace_only": b"  \r\n\t\r\n",
        "header_only": csv_text([header], delimiter).encode(),
        "binary_garbage": random.Random(12).randbytes(4096),
        "utf16le_without_bom": plain.encode("utf-16-le"),
        "utf16_bom_truncated": codecs.BOM_UTF16_LE + plain.encode("utf-16-le")[:-1],
        "utf16be_with_bom": codecs.BOM_UTF16_BE + plain.encode("utf-16-be"),
        "utf32": plain.encode("utf-32"),
        "utf8_bom_then_cp1251": codecs.BOM_UTF8 + table(bad(column, "Стрижка")).encode("cp1251"),
        "cp1251_undefined_byte": _splice(marked, marker, b"\x98", "cp1251"),
        "overlong_utf8": _splice(marked, marker, b"\xc0\xaf\xe0\x80\xaf"),
        "utf8_encoded_surrogate": _splice(marked, marker, b"\xed\xa0\x80"),
        "nul_byte": _splice(marked, marker, b"\x00"),
        "unbalanced_quote": (plain + '"never closed' + delimiter + "x\r\n" + plain).encode(),
        "cr_only_lines": table(good).replace("\r\n", "\r").encode(),
        "huge_cell": table(bad(column, "Ж" * 600_000)).encode(),
        "many_columns": table(good + ["x"] * 20_000).encode(),
    }
    for name, value in strings.TEXTS.items():
        if name != "lone_surrogate":  # not encodable; utf8_encoded_surrogate is its byte form
            cases[f"cell_{name}"] = table(bad(column, value)).encode()
    for index, formula in enumerate(strings.FORMULAS):
        cases[f"formula_{index}"] = table(bad(column, formula)).encode()
    if number_column is not None:
        for index, number in enumerate(strings.NUMBERS):
            cases[f"number_{index}"] = table(bad(number_column, number)).encode()
    return [Case(name, data, f"{name}.csv") for name, data in cases.items()]


# --- XLSX ----------------------------------------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
BOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(row: int, column: int, value) -> str:
    ref = f"{column_letter(column)}{row}"
    if isinstance(value, Formula):
        return f'<c r="{ref}"><f>{escape(value.text)}</f><v>0</v></c>'
    if isinstance(value, Raw):
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{value.xml}</t></is></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


class Formula:
    def __init__(self, text: str):
        self.text = text


class Raw:
    """Cell text already in XML (an entity reference, which escaping would defuse)."""

    def __init__(self, xml: str):
        self.xml = xml


def sheet_xml(rows: list[list], prologue: str = "", dimension: str = "") -> str:
    body = "".join(
        f'<row r="{r}">' + "".join(_cell(r, c, v) for c, v in enumerate(row)) + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'{prologue}<worksheet xmlns="{MAIN}">{dim}<sheetData>{body}</sheetData></worksheet>'


def _parts(shared_strings: bool = False) -> dict[str, str]:
    strings_override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{STRINGS_TYPE}"/>'
    strings_rel = f'<Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
    return {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{BOOK_TYPE}"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_TYPE}"/>'
            f"{strings_override if shared_strings else ''}</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
            f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/worksheet" '
            f'Target="worksheets/sheet1.xml"/>{strings_rel if shared_strings else ""}</Relationships>'
        ),
    }


def xlsx(sheet: str, extra: dict[str, str] | None = None, shared_strings: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _parts(shared_strings is not None).items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
        for name, text in (extra or {}).items():
            archive.writestr(name, text)
    return out.getvalue()


def _bomb(part: str, head: str, tail: str, megabytes: int) -> bytes:
    """A workbook whose `part` is `head`, megabytes of spaces, then `tail`: a few dozen KB on disk."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        parts = _parts(shared_strings=part == "xl/sharedStrings.xml")
        for name, text in parts.items():
            archive.writestr(name, text)
        if part != "xl/worksheets/sheet1.xml":
            archive.writestr("xl/worksheets/sheet1.xml", sheet_xml([]))
        with archive.open(part, "w", force_zip64=True) as handle:
            handle.write(head.encode())
            chunk = b" " * (1024 * 1024)
            for _index in range(megabytes):
                handle.write(chunk)
            handle.write(tail.encode())
    return out.getvalue()


def xlsx_cases(header: list[str], good: list[str], column: int, unique: int | None = None) -> list[Case]:
    def bad(value) -> list:
        return _with(good, column, value, unique)

    rows = [header, good]
    ok = xlsx(sheet_xml(rows))
    billion = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
        + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
        + "]>"
    )
    header_cells = "".join(_cell(1, c, v) for c, v in enumerate(header))
    cases = {
        "xlsx_good": ok,
        "xlsx_zip_bomb_sheet": _bomb(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{header_cells}</row>',
            "</sheetData></worksheet>",
            BOMB_MB,
        ),
        "xlsx_zip_bomb_shared_strings": _bomb(
            "xl/sharedStrings.xml", f'<sst xmlns="{MAIN}"><si><t>', "</t></si></sst>", BOMB_MB
        ),
        "xlsx_many_entries": xlsx(sheet_xml(rows), extra={f"xl/junk/{i}.xml": "<x/>" for i in range(5_000)}),
        "xlsx_truncated": ok[: len(ok) // 2],
        "xlsx_not_a_zip": b"PK\x03\x04" + random.Random(7).randbytes(2048),
        "xlsx_no_workbook": _zip({"hello.txt": "not a workbook"}),
        "xlsx_billion_laughs": xlsx(sheet_xml([header, bad(Raw("&lol9;"))], prologue=billion)),
        "xlsx_external_entity": xlsx(
            sheet_xml(
                [header, bad(Raw("&xxe;"))],
                prologue='<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            )
        ),
        "xlsx_huge_cell": xlsx(sheet_xml([header, good, bad("Ж" * 600_000)])),
        "xlsx_formula_cell": xlsx(sheet_xml([header, good, bad(Formula("cmd|' /C calc'!A0"))])),
        "xlsx_formula_text": xlsx(sheet_xml([header, good, bad(strings.FORMULAS[0])])),
        # Read as declared, every row is padded to 16,384 cells.
        "xlsx_lying_dimension": xlsx(sheet_xml([header, *[good] * 99], dimension="A1:XFD1048576")),
        "xlsx_rtl_and_zwj": xlsx(sheet_xml([header, good, bad(strings.RTL_OVERRIDE + strings.EMOJI_ZWJ)])),
    }
    return [Case(name, data, f"{name}.xlsx") for name, data in cases.items()]


def _zip(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()
