"""Reading a platform's statistics report into a header and rows of cells (see stats.py for the rules).

Files: XLSX (first sheet), or CSV in UTF-8 (with or without a BOM), UTF-16 with a BOM (Google Ads'
"CSV" downloads for Excel are UTF-16 and tab-separated) or Windows-1251 (Yandex Direct's older exports),
separated by ";", tab or ",". Reports start with title lines (Google: the report's name and its date
range; Yandex: "Статистика по кампаниям..."): the header is the first of the first HEADER_SEARCH_ROWS rows
in which a date, a campaign and at least one of impressions, clicks or cost are recognised.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from smmdesk.audience.importer import header_key
from smmdesk.lib.spreadsheet import WorkbookError, read_first_sheet

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
HEADER_SEARCH_ROWS = 20
DELIMITERS = (";", "\t", ",")
ZIP_MAGIC = b"PK\x03\x04"
REQUIRED = ("date", "campaign")
MEASURES = ("impressions", "clicks", "cost")
FIELDS = ("date", "campaign", "ad_group", "keyword", "impressions", "clicks", "cost", "conversions")

# Header names as the three platforms write them in their en, ru and sk interfaces (and as people name
# such columns), compared after header_key(): case, Latin accents and punctuation do not matter.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "date": ("дата", "день", "day", "date", "dátum", "deň", "date start", "дата начала"),
    "campaign": ("кампания", "название кампании", "кампания название", "campaign", "campaign name",
                 "kampaň", "názov kampane"),
    # VK Ads reports by ad ("Объявление"): there is no ad column, so an ad is kept as the ad group.
    "ad_group": ("группа", "группа объявлений", "название группы", "ad group", "ad group name", "ad set",
                 "ad set name", "reklamná skupina", "názov reklamnej skupiny", "объявление", "ad",
                 "ad name", "название объявления"),
    "keyword": ("условие показа", "ключевая фраза", "фраза", "ключевое слово", "keyword", "search keyword",
                "search term", "kľúčové slovo"),
    "impressions": ("показы", "impr", "impressions", "zobr", "zobrazenia"),
    "clicks": ("клики", "переходы", "clicks", "kliknutia"),
    "cost": ("расход", "расход руб", "расход eur", "потрачено", "стоимость", "затраты", "cost", "spent",
             "amount spent", "spend", "cena", "náklady"),
    "conversions": ("конверсии", "целевые действия", "результаты", "conversions", "conv", "results",
                    "konverzie"),
}  # fmt: skip
_EXACT = {header_key(name): field for field, names in HEADER_NAMES.items() for name in names}
# A header that is one of these words and a short tail names the field: a currency ("Расход (руб.)",
# "Потрачено, ₽", "Cost (EUR)") or a qualifier ("Конверсии (все)"). A longer tail is another measure:
# "Cost / conv.", "Расход за клик".
_PREFIXES = {
    **dict.fromkeys(("расход", "потрачено", "стоимость", "затраты", "cost", "spent", "naklady"), "cost"),
    **dict.fromkeys(("конверсии", "conversions", "konverzie"), "conversions"),
}
_SHORT_TAIL = 3
FIELD_LABELS = {
    "date": gettext_lazy("Date"),
    "campaign": gettext_lazy("Campaign"),
    "ad_group": gettext_lazy("Ad group"),
    "keyword": gettext_lazy("Keyword"),
    "impressions": gettext_lazy("Impressions"),
    "clicks": gettext_lazy("Clicks"),
    "cost": gettext_lazy("Cost"),
    "conversions": gettext_lazy("Conversions"),
}


class StatsRefused(Exception):
    """The file or request cannot be imported at all; `field` names the input at fault."""

    def __init__(self, message: str, field: str = "file"):
        super().__init__(message)
        self.message = message
        self.field = field


def read_source(source) -> tuple[bytes, str]:
    """(content, file name) of a path or an uploaded file."""
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise StatsRefused(_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // 2**20})
            return path.read_bytes(), path.name
        except OSError as exc:
            raise StatsRefused(
                _("The file cannot be read: %(error)s") % {"error": exc.strerror or exc}
            ) from exc
    if getattr(source, "size", 0) and source.size > MAX_BYTES:
        raise StatsRefused(_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // 2**20})
    content = source.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise StatsRefused(_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // 2**20})
    return content, Path(getattr(source, "name", "") or "upload").name


def _decode(content: bytes) -> str:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            raise StatsRefused(_("The file says it is UTF-16 but is not.")) from None
    if b"\x00" in content:
        raise StatsRefused(_("This is not a CSV or XLSX file."))
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatsRefused(_("The file's text encoding is not UTF-8, UTF-16 or Windows-1251."))


def _xlsx_rows(content: bytes) -> list[list]:
    try:
        rows = read_first_sheet(content, MAX_ROWS + HEADER_SEARCH_ROWS)
    except WorkbookError as exc:
        raise StatsRefused(str(exc)) from exc
    if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise StatsRefused(_("The file has more than %(limit)s rows.") % {"limit": MAX_ROWS})
    return [list(cells) for cells in rows]


def recognise(headers: list) -> dict[str, int]:
    """Our field -> column index for the headers recognised, each field and column once."""
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = header_key(header or "")
        field = _EXACT.get(key) or _by_prefix(key)
        if field and field not in mapping:
            mapping[field] = index
    return mapping


def _by_prefix(key: str) -> str | None:
    first, _space, tail = key.partition(" ")
    if first in _PREFIXES and all(len(word) <= _SHORT_TAIL for word in tail.split()):
        return _PREFIXES[first]
    return None


def _usable(mapping: dict[str, int]) -> bool:
    return all(field in mapping for field in REQUIRED) and any(field in mapping for field in MEASURES)


def _find_header(rows: list[list]) -> tuple[int, dict[str, int]]:
    """(index of the header row, its recognised mapping); (-1, best partial mapping) when none is usable."""
    best: dict[str, int] = {}
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping = recognise(cells)
        if _usable(mapping):
            return index, mapping
        best = max(best, mapping, key=len)
    return -1, best


def _csv_rows(text: str, delimiter: str) -> list[list]:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise StatsRefused(_("The file cannot be read as CSV: %(error)s") % {"error": exc}) from exc


def read_table(content: bytes) -> tuple[list[str], list[tuple[int, list]], dict[str, int]]:
    """(headers, [(row number in the file, 1-based, cells)] after the header, recognised mapping)."""
    if not content.strip():
        raise StatsRefused(_("The file is empty."))
    if content.startswith(ZIP_MAGIC):
        candidates = [_xlsx_rows(content)]
    else:
        text = _decode(content)
        candidates = [_csv_rows(text, delimiter) for delimiter in DELIMITERS]
    found = [(rows, *_find_header(rows)) for rows in candidates]
    usable = [item for item in found if item[1] >= 0]
    if usable:
        rows, start, mapping = max(usable, key=lambda item: len(item[2]))
    else:
        # No header recognised by itself: the first non-empty row, for a mapping given by the caller.
        rows, _start, mapping = max(found, key=lambda item: len(item[2]))
        start = next((i for i, cells in enumerate(rows) if any(_filled(c) for c in cells)), -1)
        if start < 0:
            raise StatsRefused(_("The file has no rows."))
    if len(rows) - start - 1 > MAX_ROWS:
        raise StatsRefused(_("The file has more than %(limit)s rows.") % {"limit": MAX_ROWS})
    headers = [" ".join(str(cell).split()) if cell is not None else "" for cell in rows[start]]
    body = [(number, cells) for number, cells in enumerate(rows[start + 1 :], start=start + 2)]
    return headers, [(n, c) for n, c in body if any(_filled(cell) for cell in c)], mapping


def _filled(cell) -> bool:
    return cell is not None and (not isinstance(cell, str) or bool(cell.strip()))


def apply_mapping(headers: list[str], recognised: dict[str, int], given: dict | None) -> dict[str, int]:
    """The recognised mapping with the caller's {"field": "header name" or column index} on top."""
    mapping = dict(recognised)
    for field, column in (given or {}).items():
        if field not in FIELDS:
            raise StatsRefused(_("Unknown field %(field)s.") % {"field": field}, field="mapping")
        if column is None or column == "":
            mapping.pop(field, None)
            continue
        if isinstance(column, int) and not isinstance(column, bool):
            index = column
        else:
            wanted = header_key(str(column))
            index = next((i for i, header in enumerate(headers) if header_key(header) == wanted), -1)
        if not 0 <= index < len(headers):
            raise StatsRefused(
                _("%(field)s: no column %(column)s in the file.") % {"field": field, "column": column},
                field="mapping",
            )
        mapping = {key: value for key, value in mapping.items() if value != index}
        mapping[field] = index
    if not _usable(mapping):
        missing = [f for f in REQUIRED if f not in mapping] or ["impressions / clicks / cost"]
        raise StatsRefused(
            _("The report's header is not recognised: no column for %(fields)s. Give a mapping.")
            % {"fields": ", ".join(missing)},
            field="mapping",
        )
    return mapping
