"""Reading an order file: what it is (CSV or XLSX, the text encoding and separator of a CSV), its header
row, and its rows one by one, without holding the whole file in memory.

Detection, in this order:
- XLSX by its ZIP signature (the first sheet is read; the legacy .xls and UTF-16 text are refused with a
  message saying what to save the file as instead);
- text: UTF-8 with a BOM, then strict UTF-8 over the whole file, then cp1251 (Windows Cyrillic, what
  Russian Excel saves a CSV as). Strict UTF-8 almost never accepts a cp1251 file by accident, while
  cp1251 accepts almost any bytes, so it is tried last;
- the separator: csv.Sniffer restricted to comma, semicolon and tab; when it fails, or its answer does
  not split the header into columns, the one of the three found most often in the header line.

Rows are numbered as a spreadsheet numbers them (the header is row 1) so an error report points at the
line the person sees. Fully empty rows are skipped but keep their number.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from smmdesk.lib.spreadsheet import UnsafeWorkbook, check_xlsx

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 1_000_000
DELIMITERS = ",;\t"
SAMPLE_CHARS = 64 * 1024
CHUNK_BYTES = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class ImportRefused(Exception):
    """The file (or the request) cannot be imported at all; `field` names the input at fault, if one is."""

    def __init__(self, message: str, field: str | None = "file"):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class FileInfo:
    format: str  # "csv" or "xlsx"
    encoding: str  # CSV only: "utf-8", "utf-8-sig" or "cp1251"
    delimiter: str  # CSV only
    headers: list[str]
    total_rows: int  # data rows; for XLSX the sheet's own declared size (an estimate)


# --- detection -----------------------------------------------------------------------------------------


def sniff(path: Path) -> FileInfo:
    """Detect the file's format, encoding and separator, read its header and count its rows; raises
    ImportRefused naming the problem (too big, not a table, no header, too many rows)."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ImportRefused(
            _("The file is larger than %(limit)s MB; split it into smaller files.")
            % {"limit": MAX_BYTES // (1024 * 1024)}
        )
    if size == 0:
        raise ImportRefused(_("The file is empty."))
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(ZIP_MAGIC):
        return _sniff_xlsx(path)
    if head.startswith(OLE_MAGIC):
        raise ImportRefused(_("Old Excel files (.xls) cannot be read; save the file as .xlsx or CSV."))
    if head.startswith(UTF16_BOMS):
        raise ImportRefused(_("The file is in UTF-16; save it as CSV in UTF-8."))
    encoding = _detect_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(SAMPLE_CHARS)
    delimiter = _detect_delimiter(sample)
    with open_table(path, "csv", encoding, delimiter) as table:
        total = sum(1 for _row in table)
        headers = table.headers
    _check_rows(total)
    return FileInfo("csv", encoding, delimiter, headers, total)


def _check_rows(total: int) -> None:
    if total > MAX_ROWS:
        raise ImportRefused(too_many_rows())


def too_many_rows() -> str:
    return _("The file has more than %(limit)s rows; split it into smaller files.") % {
        "limit": f"{MAX_ROWS:,}".replace(",", " ")
    }


def _detect_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        start = handle.read(3)
    if start == codecs.BOM_UTF8:
        if not _decodes(path, "utf-8"):
            raise ImportRefused(_("The file says it is UTF-8 but is not; save it again as CSV UTF-8."))
        return "utf-8-sig"
    if _decodes(path, "utf-8"):
        return "utf-8"
    if _decodes(path, "cp1251"):
        return "cp1251"
    raise ImportRefused(_("The file's text encoding is not UTF-8 or Windows-1251; save it as CSV UTF-8."))


def _decodes(path: Path, encoding: str) -> bool:
    """The whole file decodes strictly, and is text: a NUL byte means a binary file, whatever decodes."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            if b"\x00" in chunk:
                raise ImportRefused(_("This is not a CSV or XLSX file."))
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _detect_delimiter(sample: str) -> str:
    # Sniffer reads a partial last line as a row of its own; give it whole lines only.
    if len(sample) == SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    header = _first_line(sample)
    try:
        guess = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        guess = ""
    if guess and len(next(csv.reader([header], delimiter=guess), [])) > 1:
        return guess
    counts = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 1 else ","


def _first_line(sample: str) -> str:
    for line in sample.splitlines():
        if line.strip():
            return line
    return ""


def _sniff_xlsx(path: Path) -> FileInfo:
    with open_table(path, "xlsx") as table:
        total = max(0, (table.declared_rows or 0) - table.header_row)
        headers = table.headers
    _check_rows(total)
    return FileInfo("xlsx", "", "", headers, total)


# --- reading -------------------------------------------------------------------------------------------


def _blank(cells) -> bool:
    for cell in cells:
        if cell is not None and (not isinstance(cell, str) or cell.strip()):
            return False
    return True


def _header_text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return " ".join(str(cell).split())


class Table:
    """An open file: `headers`, then iterate for (row number, cells) of the non-empty data rows. Cells are
    strings from a CSV, and whatever the sheet holds from an XLSX (str, int, float, datetime, None)."""

    headers: list[str]
    header_row: int
    declared_rows: int | None = None
    mac_epoch = False  # XLSX saved with the 1904 date system (old Excel for Mac)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        raise NotImplementedError

    def _rows(self) -> Iterator[tuple[int, list | tuple]]:
        raise NotImplementedError

    def _start(self) -> None:
        """Read up to the header row (the first non-empty one)."""
        self._iter = self._rows()
        for number, cells in self._iter:
            if not _blank(cells):
                self.header_row = number
                self.headers = [_header_text(cell) for cell in cells]
                while self.headers and not self.headers[-1]:
                    self.headers.pop()
                return
        raise ImportRefused(_("The file has no header row."))

    def __iter__(self) -> Iterator[tuple[int, list | tuple]]:
        for number, cells in self._iter:
            if not _blank(cells):
                yield number, cells


class CsvTable(Table):
    def __init__(self, path: Path, encoding: str, delimiter: str):
        self._handle = path.open(encoding=encoding, newline="")
        self._delimiter = delimiter
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._handle.close()

    def _rows(self):
        reader = csv.reader(self._handle, delimiter=self._delimiter)
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):  # noqa: B007 (used after the loop)
                yield number, cells
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportRefused(
                _("Row %(row)s cannot be read as CSV: %(error)s") % {"row": number + 1, "error": exc}
            ) from exc


class XlsxTable(Table):
    def __init__(self, path: Path):
        from openpyxl import load_workbook
        from openpyxl.utils.datetime import MAC_EPOCH

        try:
            check_xlsx(path)
        except UnsafeWorkbook as exc:
            raise ImportRefused(str(exc)) from exc
        try:
            self._book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign ZIP
            raise ImportRefused(_("This file cannot be read as an XLSX workbook.")) from exc
        try:
            if not self._book.worksheets:
                raise ImportRefused(_("The workbook has no sheet."))
            self._sheet = self._book.worksheets[0]
            self.mac_epoch = self._book.epoch == MAC_EPOCH
            self.declared_rows = self._sheet.max_row
            # A writer may declare a wrong size, and openpyxl would stop reading at it: read what is there.
            self._sheet.reset_dimensions()
            self._start()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._book.close()

    def _rows(self):
        try:
            yield from enumerate(self._sheet.iter_rows(values_only=True), start=1)
        except ImportRefused:
            raise
        except Exception as exc:
            raise ImportRefused(_("The workbook is damaged and cannot be read to the end.")) from exc


def open_table(path: Path, file_format: str, encoding: str = "", delimiter: str = "") -> Table:
    if file_format == "xlsx":
        return XlsxTable(path)
    return CsvTable(path, encoding or "utf-8", delimiter or ",")


# --- header recognition --------------------------------------------------------------------------------

# Header names as CRMs, spreadsheets and people write them in en, ru and sk, compared after header_key().
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "order_id": (
        "order id", "order", "order no", "order number", "order #", "id", "no", "number",
        "№", "№ заказа", "номер заказа", "номер", "заказ", "id заказа", "код заказа",
        "číslo objednávky", "objednávka", "id objednávky", "č objednávky", "číslo",
    ),
    "date": (
        "date", "order date", "visit date", "created", "created at", "datetime",
        "дата", "дата заказа", "дата визита", "дата и время", "дата оказания услуги",
        "dátum", "dátum objednávky", "dátum návštevy", "dátum a čas",
    ),
    "service": (
        "service", "service name", "product", "item", "procedure",
        "услуга", "название услуги", "наименование услуги", "наименование", "товар", "процедура",
        "služba", "názov služby", "produkt", "položka", "procedúra",
    ),
    "price": (
        "price", "amount", "sum", "total", "revenue", "cost", "paid",
        "цена", "сумма", "стоимость", "оплата", "итого", "выручка",
        "cena", "suma", "čiastka", "spolu", "tržba", "zaplatené",
    ),
    "client_id": (
        "client id", "client", "customer id", "customer", "client no",
        "клиент", "id клиента", "код клиента", "номер клиента",
        "klient", "id klienta", "zákazník", "id zákazníka", "číslo klienta",
    ),
    "gender": ("gender", "sex", "пол", "пол клиента", "pohlavie"),
    "age": ("age", "client age", "возраст", "возраст клиента", "vek", "vek klienta"),
    "birth_year": (
        "birth year", "year of birth", "born", "date of birth", "birth date", "birthday",
        "год рождения", "дата рождения", "rok narodenia", "dátum narodenia",
    ),
    "district": (
        "district", "area", "neighbourhood", "neighborhood", "city district",
        "район", "район города", "микрорайон",
        "okres", "mestská časť", "časť mesta", "štvrť", "obvod",
    ),
    "source": (
        "source", "channel", "utm source", "lead source", "how did you hear",
        "источник", "канал", "откуда узнали", "источник заказа",
        "zdroj", "kanál", "odkiaľ", "zdroj objednávky",
    ),
    "utm_campaign": ("utm campaign", "campaign", "кампания", "рекламная кампания", "kampaň"),
}  # fmt: skip

# Words that, inside a longer header ("Дата и время визита", "Total price, RUB"), name the field; checked
# only for the columns the exact names left unmapped. A column goes to the first field whose word it has.
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    # Before "date": "Дата рождения" is a birth date.
    "birth_year": ("birth", "рождения", "narodenia"),
    "date": ("date", "дата", "datum"),
    "service": ("service", "услуга", "услуги", "sluzba", "sluzby"),
    "price": ("price", "amount", "цена", "сумма", "стоимость", "cena", "suma"),
    "gender": ("gender", "sex", "пол", "pohlavie"),
    "age": ("age", "возраст", "vek"),
    "district": ("district", "район", "okres", "stvrt"),
    "source": ("source", "источник", "zdroj"),
    "utm_campaign": ("campaign", "кампания", "kampan"),
}


def header_key(text: str) -> str:
    """A header as compared: case-folded, without accents (Dátum = Datum) and ё, punctuation as spaces."""
    text = unicodedata.normalize("NFC", str(text)).casefold().replace("ё", "е")
    # Strip Latin accents only: NFD would also take the breve off Cyrillic й.
    text = "".join(_strip_accent(char) for char in text)
    text = re.sub(r"[_\-.:,;/()\[\]\"'«»]+", " ", text)
    return " ".join(text.split())


def _strip_accent(char: str) -> str:
    if "a" <= char <= "z" or char < "\u00c0" or char > "\u024f":
        return char
    return unicodedata.normalize("NFD", char)[0]


_EXACT = {header_key(name): field for field, names in HEADER_NAMES.items() for name in names}
_WORDS = {field: {header_key(word) for word in words} for field, words in HEADER_WORDS.items()}


def guess_mapping(headers: list[str]) -> dict[str, int]:
    """Our field -> column index, for the headers recognised; each column and field used at most once."""
    mapping: dict[str, int] = {}
    used: set[int] = set()
    keys = [header_key(header) for header in headers]
    for index, key in enumerate(keys):
        field = _EXACT.get(key)
        if field and field not in mapping:
            mapping[field] = index
            used.add(index)
    for index, key in enumerate(keys):
        if index in used:
            continue
        tokens = set(key.split())
        field = next((field for field, words in _WORDS.items() if words & tokens), None)
        if field and field not in mapping:
            mapping[field] = index
            used.add(index)
    return mapping


def find_header(headers: list[str], name: str) -> int | None:
    """The column of a header named by a person (as written, or as header_key compares it)."""
    for index, header in enumerate(headers):
        if header == name.strip():
            return index
    key = header_key(name)
    for index, header in enumerate(headers):
        if header_key(header) == key:
            return index
    return None
