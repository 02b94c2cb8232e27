"""Positions and the funnel: import positions (a CSV from any rank tracker) and visits per page (a CSV
from web analytics), then per cluster: visits → chats and leads → orders.

How each step is counted (docs/keywords.md, "Positions and the funnel"):
- visits: the imported visits of the cluster's landing page;
- chats and leads: site chat conversations tagged with the page's campaign tag (the widget reports the
  path it was opened on and the conversation gets that path's slug as a tag, see
  channels/webchat/chat.py page_slug; agents may tag by hand too), plus the chats and leads columns of the
  visits file (analytics goals); a tagged chat is a lead when the customer left a phone or an e-mail;
- orders: audience orders whose utm_campaign is the page's campaign tag, which is the page's slug
  (`campaign_tag`): links from ads and posts to a page carry `utm_campaign=<slug>`.

Both imports keep the good rows and report each bad one as (row, field, message); a file that cannot be
read at all, or lacks a required column, is refused as a whole.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from smmdesk.accounts.roles import allowed
from smmdesk.channels.webhook.payload import has_unstorable
from smmdesk.sites.models import Page, PageVisits, Position

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
MAX_POSITION = 1000

# Header spellings of the common rank trackers and analytics exports (Topvisor, SE Ranking, Serpstat,
# AllPositions, Semrush, Yandex Metrica, Google Analytics), compared lower-cased and trimmed.
POSITION_HEADERS = {
    "query": (
        *("query", "keyword", "keywords", "phrase", "search query", "search term", "key phrase"),
        *("запрос", "ключевое слово", "ключевая фраза", "фраза", "ключ", "поисковый запрос"),
        *("kľúčové slovo", "dopyt", "fráza"),
    ),
    "date": ("date", "day", "checked", "check date", "дата", "дата проверки", "день", "dátum"),
    "position": (
        *("position", "rank", "pos", "ranking", "current position", "place"),
        *("позиция", "место", "позиция в выдаче", "pozícia"),
    ),
    "url": (
        *("url", "page", "landing page", "ranking url", "relevant url", "address"),
        *("адрес", "страница", "релевантная страница", "релевантный url", "url страницы", "stránka"),
    ),
    "engine": (
        *("engine", "search engine", "se", "searcher", "source"),
        *("поисковая система", "пс", "поисковик", "vyhľadávač"),
    ),
}
VISIT_HEADERS = {
    "date": POSITION_HEADERS["date"],
    "page": (
        *("page", "url", "page url", "landing page", "slug", "page path", "address"),
        *("страница", "адрес", "url страницы", "страница входа", "stránka"),
    ),
    "visits": ("visits", "sessions", "pageviews", "views", "визиты", "сеансы", "посещения", "návštevy"),
    "chats": ("chats", "chat", "чаты", "чат", "chaty"),
    "leads": ("leads", "lead", "заявки", "лиды", "контакты", "kontakty"),
}
NOT_RANKED = {"", "-", "—", "–", "0", "n/a", "na", "none", "not found", "нет", "не найдено"}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y.%m.%d", "%d.%m.%y", "%Y/%m/%d")


class FunnelError(Exception):
    """A refused file or a role that may not; `field` names what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotAllowed(FunnelError):
    def __init__(self):
        super().__init__("role", _("Your role does not allow importing site data."))


# --- reading a CSV -------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """Text of a CSV in UTF-8 (with or without BOM), UTF-16 with a BOM (Excel, Keyword Planner) or
    Windows-1251: strict UTF-8 rarely accepts cp1251 bytes by accident, so cp1251 is tried last."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")


def _delimiter(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in ("\t", ";", ",")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_table(upload, headers: dict[str, tuple[str, ...]], required: tuple[str, ...]):
    """(column index per field, rows as (row number, cells)); raises FunnelError for an unreadable file
    or a missing required column."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise FunnelError("file", _("The file is larger than 10 MB."))
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise FunnelError("file", _("The file is larger than 10 MB."))
    if data.startswith(b"PK\x03\x04"):
        raise FunnelError("file", _("This is a spreadsheet (XLSX): save it as CSV and import that."))
    text = decode(data).replace("\x00", "")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise FunnelError("file", _("The file is empty: a header row is needed."))
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(lines[0])))
    except csv.Error as error:
        raise FunnelError(
            "file", _("The file cannot be read as CSV: %(error)s") % {"error": error}
        ) from error
    header = [cell.strip().strip('"').lower() for cell in rows[0]]
    columns = {}
    for field, names in headers.items():
        for index, cell in enumerate(header):
            if cell in names and field not in columns:
                columns[field] = index
    missing = [field for field in required if field not in columns]
    if missing:
        raise FunnelError(
            "file",
            _("No column for: %(fields)s. Name the columns e.g. %(example)s.")
            % {"fields": ", ".join(missing), "example": ", ".join(required)},
        )
    body = [
        (number, cells) for number, cells in enumerate(rows[1:], start=2) if any(c.strip() for c in cells)
    ]
    if len(body) > MAX_ROWS:
        raise FunnelError("file", _("At most %(count)d rows in one file.") % {"count": MAX_ROWS})
    return columns, body


def _cell(cells: list[str], columns: dict, field: str) -> str:
    index = columns.get(field)
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


class RowError(Exception):
    def __init__(self, field: str, message: str):
        self.field, self.message = field, message


def parse_date(value: str) -> date:
    text = value.strip().replace("T", " ").split(" ")[0]
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise RowError(
        "date", _("“%(value)s” is not a date (use 2026-03-14 or 14.03.2026).") % {"value": value[:40]}
    )


def parse_position(value: str) -> int | None:
    """A place in the results, or None for "not in the ranking" (empty, "-", ">100", "100+")."""
    text = value.strip().lower()
    if text in NOT_RANKED or text.startswith(">") or text.endswith("+"):
        return None
    try:
        number = Decimal(text.replace(",", "."))
        # Compared inside the try: a signalling NaN raises on any comparison.
        ranked = number == number.to_integral_value() and 1 <= number <= MAX_POSITION
    except ArithmeticError:
        ranked = False
    if not ranked:
        raise RowError(
            "position",
            _("“%(value)s” is not a position from 1 to %(max)d.")
            % {"value": value[:40], "max": MAX_POSITION},
        )
    return int(number)


def parse_count(value: str, field: str) -> int:
    text = value.replace("\u00a0", "").replace(" ", "")
    if not text:
        return 0
    if not text.isdigit() or len(text) > 9:
        raise RowError(field, _("“%(value)s” is not a whole number.") % {"value": value[:40]})
    return int(text)


def _text(value: str, field: str, limit: int) -> str:
    if has_unstorable(value):
        raise RowError(field, _("The text contains characters that are not allowed."))
    if len(value) > limit:
        raise RowError(field, _("At most %(count)d characters.") % {"count": limit})
    return value


def slug_of(value: str) -> str:
    """The page slug a URL, a path or a bare slug names: its last path segment."""
    path = urlsplit(value).path if "://" in value else value.split("?")[0].split("#")[0]
    parts = [part for part in path.split("/") if part]
    return parts[-1].lower() if parts else ""


def _check(membership) -> None:
    if not allowed(membership.role, "sites.manage"):
        raise NotAllowed()


# --- positions -----------------------------------------------------------------------------------------


def _keyword_for(workspace, query: str, cache: dict):
    from smmdesk.keywords import normalize
    from smmdesk.keywords.models import Keyword

    if query.lower() not in cache:
        found = Keyword.objects.filter(workspace=workspace, query__iexact=query).first()
        if found is None:
            keys = {normalize.key(query, language) for language in ("ru", "sk", "en")}
            found = Keyword.objects.filter(workspace=workspace, normalized__in=keys - {""}).first()
        cache[query.lower()] = found
    return cache[query.lower()]


def import_positions(membership, upload) -> dict:
    """Positions from a rank tracker's CSV: query, date, position, url, engine. Returns dict(rows,
    imported, errors=[(row, field, message)]); a query, engine and day already imported is updated."""
    _check(membership)
    workspace = membership.workspace
    columns, body = read_table(upload, POSITION_HEADERS, ("query", "date", "position"))
    pages = {page.slug.lower(): page for page in Page.objects.filter(workspace=workspace)}
    keywords: dict = {}
    errors, imported = [], 0
    with transaction.atomic():
        for number, cells in body:
            try:
                query = " ".join(_text(_cell(cells, columns, "query"), "query", 300).split())
                if not query:
                    raise RowError("query", _("Empty query."))
                day = parse_date(_cell(cells, columns, "date"))
                position = parse_position(_cell(cells, columns, "position"))
                url = _text(_cell(cells, columns, "url"), "url", 500)
                if url and urlsplit(url).scheme not in ("http", "https"):
                    raise RowError("url", _("Only http and https addresses."))
                engine = _text(_cell(cells, columns, "engine").lower(), "engine", 30)
            except RowError as error:
                errors.append((number, error.field, str(error.message)))
                continue
            keyword = _keyword_for(workspace, query, keywords)
            page = pages.get(slug_of(url)) if url else None
            if page is None and keyword is not None and keyword.cluster_id:
                page = Page.objects.filter(workspace=workspace, cluster_id=keyword.cluster_id).first()
            Position.objects.update_or_create(
                workspace=workspace,
                query=query,
                engine=engine,
                date=day,
                defaults={"position": position, "url": url, "keyword": keyword, "page": page},
            )
            imported += 1
    return {"rows": len(body), "imported": imported, "errors": errors}


# --- visits --------------------------------------------------------------------------------------------


def import_visits(membership, upload) -> dict:
    """Visits per page and day: date, page (its URL, path or slug), visits, and optionally chats and
    leads. Returns dict(rows, imported, errors=[(row, field, message)]); a page's day already imported is
    replaced."""
    _check(membership)
    workspace = membership.workspace
    columns, body = read_table(upload, VISIT_HEADERS, ("date", "page", "visits"))
    pages = {page.slug.lower(): page for page in Page.objects.filter(workspace=workspace)}
    errors, imported = [], 0
    with transaction.atomic():
        for number, cells in body:
            try:
                day = parse_date(_cell(cells, columns, "date"))
                named = _cell(cells, columns, "page")
                page = pages.get(slug_of(named))
                if page is None:
                    raise RowError("page", _("No page with the address “%(value)s”.") % {"value": named[:80]})
                counts = {"visits": parse_count(_cell(cells, columns, "visits"), "visits")}
                for field in ("chats", "leads"):
                    if field in columns:
                        counts[field] = parse_count(_cell(cells, columns, field), field)
            except RowError as error:
                errors.append((number, error.field, str(error.message)))
                continue
            PageVisits.objects.update_or_create(page=page, date=day, defaults=counts)
            imported += 1
    return {"rows": len(body), "imported": imported, "errors": errors}


# --- the funnel ----------------------------------------------------------------------------------------


def campaign_tag(page: Page) -> str:
    """What ads and posts put in utm_campaign for links to the page, and agents tag its chats with."""
    return page.slug


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class FunnelRow:
    cluster: object
    page: Page | None
    position: int | None
    visits: int = 0
    chats: int = 0
    leads: int = 0
    orders: int = 0
    revenue: Decimal = Decimal(0)

    @property
    def chat_rate(self):
        return _rate(self.chats, self.visits)

    @property
    def lead_rate(self):
        return _rate(self.leads, self.chats)

    @property
    def order_rate(self):
        return _rate(self.orders, self.leads)

    @property
    def conversion(self):
        return _rate(self.orders, self.visits)


def _tagged_chats(workspace, tag: str, start: date, end: date) -> tuple[int, int]:
    """(chats, leads) among the site chat conversations tagged with the page's campaign tag."""
    from smmdesk.inbox.models import Conversation

    tagged = [
        conversation
        for conversation in Conversation.objects.filter(
            workspace=workspace,
            channel__kind="webchat",
            created_at__date__gte=start,
            created_at__date__lte=end,
        ).select_related("customer")
        if isinstance(conversation.tags, list) and tag in conversation.tags
    ]
    leads = [c for c in tagged if c.customer is not None and (c.customer.phone or c.customer.email)]
    return len(tagged), len(leads)


def latest_position(workspace, cluster) -> int | None:
    """The best place among the latest positions of the cluster's main query (any engine)."""
    if cluster.main_id is None:
        return None
    found = Position.objects.filter(workspace=workspace, keyword_id=cluster.main_id).order_by("-date")
    latest = found.first()
    if latest is None:
        return None
    places = [p for p in found.filter(date=latest.date).values_list("position", flat=True) if p]
    return min(places) if places else None


def funnel(workspace, start: date, end: date) -> list[FunnelRow]:
    """One row per cluster, over the days start..end inclusive, the most visited first."""
    from smmdesk.audience.models import Order
    from smmdesk.keywords.models import Cluster

    rows = []
    for cluster in Cluster.objects.filter(workspace=workspace).select_related("page"):
        page = getattr(cluster, "page", None)
        row = FunnelRow(cluster=cluster, page=page, position=latest_position(workspace, cluster))
        if page is not None:
            days = PageVisits.objects.filter(page=page, date__gte=start, date__lte=end)
            sums = days.aggregate(visits=Sum("visits"), chats=Sum("chats"), leads=Sum("leads"))
            chats, leads = _tagged_chats(workspace, campaign_tag(page), start, end)
            row.visits = sums["visits"] or 0
            row.chats = (sums["chats"] or 0) + chats
            row.leads = (sums["leads"] or 0) + leads
            orders = Order.objects.filter(
                Q(utm_campaign__iexact=campaign_tag(page)),
                workspace=workspace,
                date__gte=start,
                date__lte=end,
            )
            totals = orders.aggregate(revenue=Sum("price"))
            row.orders = orders.count()
            row.revenue = totals["revenue"] or Decimal(0)
        rows.append(row)
    rows.sort(key=lambda r: (-r.visits, -r.orders, r.cluster.name))
    return rows


def totals(rows: list[FunnelRow]) -> FunnelRow:
    total = FunnelRow(cluster=None, page=None, position=None)
    for row in rows:
        for name in ("visits", "chats", "leads", "orders", "revenue"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total
