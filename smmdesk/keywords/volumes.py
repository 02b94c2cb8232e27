"""Import monthly search volumes: Yandex Wordstat exports, Google Keyword Planner CSV, any CSV.

What is read:
- Wordstat: XLSX or CSV (UTF-8 or cp1251, `;` or `,` or tabs), a header row with a phrase column
  ("Фраза", "Запрос", "Ключевая фраза") and a volume column ("Показов в месяц", "Количество показов",
  "Частотность", "Число запросов", or "Запросы" beside "Фраза"); title lines above the header are skipped.
- Keyword Planner: UTF-16 LE with a BOM, tab-separated, two title lines, then the header
  "Keyword  Currency  Avg. monthly searches  Three month change ...". A range such as "1K – 10K"
  (accounts without spend see those) counts as its lower bound: never more than the report promises.
- generic CSV: a header with query/keyword/phrase and volume/searches columns, or no header and the
  query in the first column, the volume in the second.
`fmt` ("auto", "wordstat", "planner", "generic") only changes which header names are expected; the
file's encoding and separator are always sniffed.

Rows: each bad row becomes (row number in the file, field, message) in `errors`, and every good row is
kept — one typo does not cost the other thousand rows. A file that cannot be read at all (no query
column, not a spreadsheet, too big) raises VolumeError and nothing is written.

Operators: a row like `"!женская стрижка" -бесплатно` is stored as "женская стрижка". Its minus words
are not turned into the workspace's negative keywords (they belong to one Wordstat look-up, not to the
business); they come back in `minus_words` so the person can add the ones they want. When the file holds
the same query more than once ("стрижка" and "\"стрижка\""), the most precise row wins: exact phrase over
fixed form or order over a broad match, since Wordstat's broad figure counts every longer query too.

Matching: by normalize.key in the query's language (Cyrillic → ru, otherwise the workspace's Latin
language, detected when it has several). A match gets the volume; anything else becomes a new Keyword
with source "imported", its intent from intent.classify (the next re-clustering may let the model change
it: clusters.recluster) and excluded when a negative keyword matches.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from smmdesk.keywords import intent as intents
from smmdesk.keywords import normalize, operators
from smmdesk.keywords.manual import MAX_QUERY, check_manage, kind_of, negatives_of, profile_terms
from smmdesk.keywords.models import Keyword
from smmdesk.lib.spreadsheet import WorkbookError, read_first_sheet
from smmdesk.nlp.lemmas import CYRILLIC

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
HEADER_SEARCH = 10
# The busiest queries of the web get a few hundred million searches a month; more is a typo.
MAX_VOLUME = 1_000_000_000
FORMATS = ("auto", "wordstat", "planner", "generic")

QUERY_HEADERS = {
    "wordstat": {"фраза", "запрос", "запросы", "ключевая фраза", "ключевое слово", "ключевой запрос"},
    "planner": {"keyword", "keywords"},
    "generic": {"query", "keyword", "keywords", "phrase", "search term", "term", "kľúčové slovo", "dopyt"},
}
VOLUME_HINTS = {
    "wordstat": ("показ", "частот", "число запросов", "количество запросов"),
    "planner": ("avg. monthly searches",),
    "generic": ("volume", "searches", "search volume", "frequency", "hľadan", "objem"),
}
RANGE = re.compile(r"^\s*([\d.,]+)\s*([kKmMкКмМ]?)\s*[-–—]")
NUMBER = re.compile(r"^\s*([\d\s\u00a0\u202f.,]+?)\s*([kKmMкКмМ]?)\s*$")
MULTIPLIERS = {"": 1, "k": 1_000, "к": 1_000, "m": 1_000_000, "м": 1_000_000}


class VolumeError(Exception):
    """The file as a whole cannot be imported; `field` is "file" or "fmt"."""

    def __init__(self, message: str, field: str = "file"):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class Row:
    number: int
    query: str
    volume: int
    precision: int
    minus: tuple[str, ...]


# --- reading the file --------------------------------------------------------------------------------


def _read_bytes(upload) -> bytes:
    if isinstance(upload, bytes):
        data = upload
    elif isinstance(upload, str):
        data = upload.encode("utf-8")
    else:
        data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise VolumeError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_BYTES // 1024 // 1024})
    if not data.strip():
        raise VolumeError(_("The file is empty."))
    return data


def decode(data: bytes) -> str:
    """The file's text: UTF-16 (with a BOM, or ASCII-looking without one), UTF-8, or cp1251; VolumeError
    when it is none of them or holds NUL characters (a binary file, or UTF-32)."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        elif data.startswith(b"\xef\xbb\xbf"):
            text = data[3:].decode("utf-8", errors="replace")
        # UTF-16 without a BOM: every other byte of ASCII text is zero.
        elif len(data) > 3 and data[1:40:2].count(0) > 10:
            text = data[: len(data) // 2 * 2].decode("utf-16-le", errors="replace")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1251")
    except UnicodeDecodeError:
        raise VolumeError(_("The file's text encoding is not UTF-8, UTF-16 or Windows-1251.")) from None
    if "\x00" in text:
        raise VolumeError(_("This is not a CSV or XLSX file."))
    return text


def _csv_rows(text: str) -> list[list[str]]:
    sample = text[:20_000].splitlines()[: HEADER_SEARCH + 5]
    delimiter = max("\t;,", key=lambda d: sum(line.count(d) for line in sample))
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        # A stray carriage return inside a field, say: a damaged file, told as such rather than a 500.
        raise VolumeError(_("The file cannot be read as CSV: %(error)s") % {"error": error}) from error


def _xlsx_rows(data: bytes) -> list[list[str]]:
    try:
        rows = read_first_sheet(data, MAX_ROWS + HEADER_SEARCH)
    except WorkbookError as error:
        raise VolumeError(str(error)) from error
    return [["" if value is None else str(value) for value in cells] for cells in rows]


def read_rows(data: bytes) -> list[list[str]]:
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    return _csv_rows(decode(data))


# --- header and cells --------------------------------------------------------------------------------


def _norm(cell: str) -> str:
    return " ".join(cell.strip().strip("\ufeff").casefold().split())


def _columns(row: list[str], kinds: tuple[str, ...]) -> tuple[int, int] | None:
    cells = [_norm(cell) for cell in row]
    names = set().union(*(QUERY_HEADERS[kind] for kind in kinds))
    hints = tuple(hint for kind in kinds for hint in VOLUME_HINTS[kind])
    query = next((i for i, cell in enumerate(cells) if cell in names), None)
    if query is None:
        return None
    volume = next((i for i, cell in enumerate(cells) if i != query and any(h in cell for h in hints)), None)
    if volume is None:
        # Wordstat's "Фраза | Запросы": the second name is the count of queries.
        volume = next((i for i, cell in enumerate(cells) if i != query and cell in names), None)
    return None if volume is None else (query, volume)


def find_header(rows: list[list[str]], fmt: str) -> tuple[int, int, int] | None:
    """(header row index, query column, volume column), or None when no header names match."""
    kinds = ("wordstat", "planner", "generic") if fmt == "auto" else (fmt,)
    for index, row in enumerate(rows[:HEADER_SEARCH]):
        found = _columns(row, kinds)
        if found:
            return index, *found
    return None


def parse_volume(cell: str) -> int | None:
    """Monthly searches from "1 300", "1,300", "1300.0", "1K – 10K", "2.5K"; None when not a number."""
    match = RANGE.match(cell or "") or NUMBER.match(cell or "")
    if not match:
        return None
    digits = re.sub(r"[\s\u00a0\u202f]", "", match.group(1))
    suffix = match.group(2).casefold()
    if suffix:
        number = digits.replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", digits):
        number = re.sub(r"[.,]", "", digits)
    else:
        number = digits.replace(",", ".")
    try:
        value = float(number) * MULTIPLIERS[suffix]
    except ValueError:
        return None
    if not math.isfinite(value) or (not suffix and value != int(value)):
        return None
    return int(value)


def _precision(query: operators.Query) -> int:
    if query.exact:
        return 2
    if query.ordered or any(word.fixed_form for word in query.words):
        return 1
    return 0


def parse_rows(rows: list[list[str]], fmt: str) -> tuple[list[Row], list[tuple[int, str, str]], int]:
    """(good rows, errors, number of non-empty data rows)."""
    header = find_header(rows, fmt)
    if header is None:
        if fmt not in ("auto", "generic"):
            raise VolumeError(_("No query and volume columns found in the first rows of the file."))
        start, query_col, volume_col = 0, 0, 1
        if rows and parse_volume(rows[0][1] if len(rows[0]) > 1 else "") is None:
            raise VolumeError(_("No query and volume columns found in the first rows of the file."))
    else:
        start, query_col, volume_col = header[0] + 1, header[1], header[2]
    good: list[Row] = []
    errors: list[tuple[int, str, str]] = []
    if len(rows) - start > MAX_ROWS:
        raise VolumeError(_("The file has more than %(count)d rows.") % {"count": MAX_ROWS})
    total = 0
    for number, row in enumerate(rows[start:], start=start + 1):
        if not any(cell.strip() for cell in row):
            continue
        total += 1
        raw_query = row[query_col] if len(row) > query_col else ""
        raw_volume = row[volume_col] if len(row) > volume_col else ""
        parsed = operators.parse(raw_query)
        text = normalize.clean(parsed.text)
        if not text:
            errors.append((number, "query", _("No query in this row.")))
            continue
        if len(text) > MAX_QUERY:
            errors.append((number, "query", _("Longer than %(count)d characters.") % {"count": MAX_QUERY}))
            continue
        volume = parse_volume(raw_volume)
        if volume is None:
            errors.append(
                (number, "volume", _("Not a number of searches: “%(value)s”.") % {"value": raw_volume[:40]})
            )
            continue
        if volume > MAX_VOLUME:
            errors.append(
                (number, "volume", _("At most %(count)d searches a month.") % {"count": MAX_VOLUME})
            )
            continue
        good.append(Row(number, text, volume, _precision(parsed), parsed.minus))
    return good, errors, total


# --- storing -----------------------------------------------------------------------------------------


def _languages(workspace) -> list[str]:
    profile = getattr(workspace, "profile", None)
    return list(getattr(profile, "languages", None) or [])


def query_language(query: str, languages: list[str]) -> str:
    if CYRILLIC.search(query):
        return "ru"
    latin = [language for language in languages if language in ("sk", "en")]
    if len(latin) > 1:
        from smmdesk.nlp.language import detect

        found = detect(query, latin)
        return found if found in latin else latin[0]
    return latin[0] if latin else "en"


def import_volumes(membership, upload, fmt: str = "auto") -> dict:
    check_manage(membership)
    if fmt not in FORMATS:
        raise VolumeError(
            _("Unknown format: choose one of %(formats)s.") % {"formats": ", ".join(FORMATS)}, "fmt"
        )
    rows, errors, total = parse_rows(read_rows(_read_bytes(upload)), fmt)
    workspace = membership.workspace
    languages = _languages(workspace)
    best: dict[tuple[str, str], Row] = {}
    for row in rows:
        language = query_language(row.query, languages)
        key = normalize.key(row.query, language)
        if not key:
            errors.append((row.number, "query", _("Only stop words: nothing to search for.")))
            continue
        known = best.get((language, key))
        if known is None or (row.precision, row.volume) > (known.precision, known.volume):
            best[(language, key)] = row
    brand, places = profile_terms(workspace)
    matched = added = 0
    with transaction.atomic():
        for (language, key), row in best.items():
            keyword = (
                Keyword.objects.select_for_update()
                .filter(workspace=workspace, language=language, normalized=key)
                .first()
            )
            if keyword is not None:
                if keyword.volume != row.volume:
                    keyword.volume = row.volume
                    keyword.save(update_fields=["volume"])
                matched += 1
                continue
            intent = intents.classify(row.query, language, brand=brand, places=places)
            Keyword.objects.create(
                workspace=workspace,
                query=row.query,
                normalized=key,
                language=language,
                kind=kind_of(intent),
                intent=intent,
                source=Keyword.Source.IMPORTED,
                volume=row.volume,
                excluded=normalize.is_negative(row.query, language, negatives_of(workspace, language)),
            )
            added += 1
        from smmdesk.keywords.clusters import refresh_volumes

        refresh_volumes(workspace)
    minus = sorted({word for row in rows for word in row.minus})
    return {
        "rows": total,
        "matched": matched,
        "added": added,
        "errors": sorted(errors),
        "minus_words": minus,
    }
