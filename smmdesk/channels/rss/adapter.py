"""RSS/Atom: a read-only listening source. Feed entries become mentions; nothing is ever posted.

Feeds are fetched through lib/http with the SSRF guard on (a member types the address) and with
conditional GET: the ETag and Last-Modified of the last answer go back as If-None-Match and
If-Modified-Since, and a 304 means nothing new, at almost no cost to the site.

Two ways in:
- poll(cursor): what is new since the cursor, for a listening task that keeps the cursor in
  Channel.cursor as polling does (the validators and the newest entry's time per feed, in a small JSON).
  The channel does not declare INBOX, so the inbox never polls it: feed entries are not customer messages.
- search(query, since): the contract's listening call. Its validators, and the entries of the last full
  answer, are kept in the cache, so a 304 still answers every query asked of the same feed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import UTC, datetime

import httpx
from django.core.cache import cache
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, Field, field_validator

from smmdesk.channels import ratelimit
from smmdesk.channels.base import (
    AccountInfo,
    Adapter,
    AdapterError,
    Capability,
    InboundEvent,
    PostLimits,
)
from smmdesk.channels.rss.feeds import Feed, FeedError, parse_feed
from smmdesk.lib import http

logger = logging.getLogger(__name__)

MAX_FEED_BYTES = 5_000_000
MAX_FEEDS = 10
# Entity tags longer than this are not kept: the cursor has 500 characters for every feed.
MAX_VALIDATOR = 100
CURSOR_MAX = 500
# A polite pace per site, which still reads ten feeds of one site in one go.
REQUESTS_PER_SECOND = 5.0
CACHE_SECONDS = 24 * 3600
ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, */*;q=0.5"

# Replaced by tests: the client-side rate limit must not sleep on the wall clock there.
_sleep = time.sleep


def _split_urls(value: str) -> list[str]:
    return list(dict.fromkeys(value.split()))


def _web_addresses(value: str) -> list[str]:
    urls = _split_urls(value)
    for url in urls:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(gettext("“%(url)s” is not a web address (https://…).") % {"url": url[:100]})
    return urls


class RSSConfig(BaseModel):
    feed_url: str = Field(
        min_length=1,
        max_length=2000,
        title=gettext_noop("Feed address"),
        description=gettext_noop("The address of an RSS or Atom feed, e.g. https://news.example/rss."),
    )
    more_feed_urls: str = Field(
        "",
        max_length=10_000,
        title=gettext_noop("More feeds"),
        description=gettext_noop("Further feed addresses, separated by spaces (up to 9)."),
    )

    @field_validator("feed_url")
    @classmethod
    def _one_url(cls, value: str) -> str:
        urls = _web_addresses(value)
        if len(urls) != 1:
            raise ValueError(gettext("Enter one feed address here; more go in the next field."))
        return urls[0]

    @field_validator("more_feed_urls")
    @classmethod
    def _more_urls(cls, value: str) -> str:
        urls = _web_addresses(value)
        if len(urls) > MAX_FEEDS - 1:
            raise ValueError(gettext("Up to %(count)s more feeds, please.") % {"count": MAX_FEEDS - 1})
        return " ".join(urls)


class RSSAdapter(Adapter):
    kind = "rss"
    label = _("RSS/Atom")
    Config = RSSConfig
    capabilities = frozenset({Capability.SEARCH})
    limits = PostLimits(max_text=0, supports_link=False)
    help_text = _(
        "1. Open the site you want to follow and look for an RSS or Atom link (an orange icon, or "
        "“RSS” in the footer); many sites also answer at /feed, /rss or /atom.xml.\n"
        "2. Copy the feed's address and paste it here; add more feeds separated by spaces.\n"
        "3. Save, then press Check: the feed's title is shown when it can be read.\n"
        "New entries that contain your tracked words appear as mentions. Nothing is posted to the site."
    )

    def _urls(self) -> list[str]:
        return _split_urls(f"{self.config.feed_url} {self.config.more_feed_urls}")

    def check(self) -> AccountInfo:
        url, *more = self._urls()
        for position, other in enumerate(more, start=2):
            # Polling skips a feed that fails and reads the rest, so a refused address among the further
            # feeds would only show in the log: the check says so instead (without fetching them all).
            try:
                http.check_url(other)
            except http.UnsafeURLError as exc:
                raise AdapterError(f"rss: feed {position}: {exc.message}", permanent=True)
            except http.OutboundError as exc:
                raise AdapterError(f"rss: feed {position}: {exc.message}")
        fetched = self._fetch(url)
        feed = fetched[0] if fetched else Feed("", "")
        return AccountInfo(
            external_id=url, name=(feed.title or httpx.URL(url).host)[:200], url=feed.link or url
        )

    # --- listening -----------------------------------------------------------------------------------

    def poll(self, cursor: str | None) -> tuple[list[InboundEvent], str | None]:
        """Entries newer than the cursor, from every feed; the new cursor. A feed that answers 304 adds
        nothing. Entries without a date cannot be placed: they come again whenever their feed changes
        (their ids stay the same, so the listening side keeps one of each)."""
        state = _load(cursor)
        events: list[InboundEvent] = []

        def read(url: str) -> None:
            key = _key(url)
            etag, modified, newest = state.get(key, ["", "", 0])
            fetched = self._fetch(url, etag, modified)
            if fetched is None:
                return
            feed, etag, modified = fetched
            for entry in feed.entries:
                stamp = int(entry.published.timestamp()) if entry.published else None
                if stamp is None or stamp > newest:
                    events.append(_event(url, feed, entry))
            stamps = [int(e.published.timestamp()) for e in feed.entries if e.published]
            state[key] = [etag, modified, max([newest, *stamps])]

        self._each_feed(read)
        return events, _dump(state, [_key(url) for url in self._urls()])

    def search(self, query: str, since: datetime | None) -> list[InboundEvent]:
        """Entries of every feed that contain all the words of `query`, published since `since`."""
        found: list[InboundEvent] = []

        def read(url: str) -> None:
            feed = self._cached_feed(url)
            for entry in feed.entries:
                if since is not None and entry.published is not None and entry.published < since:
                    continue
                event = _event(url, feed, entry)
                if matches(event, query):
                    found.append(event)

        self._each_feed(read)
        return found

    def _each_feed(self, read) -> None:
        """Run `read` for every feed. One feed failing does not cost the others: its error is logged and
        the rest are read, unless it needs the owner (reconnect) or no feed could be read at all."""
        failures: list[AdapterError] = []
        urls = self._urls()
        for url in urls:
            try:
                read(url)
            except AdapterError as exc:
                if exc.reconnect:
                    raise
                failures.append(exc)
                logger.warning("channel %s: feed skipped this time: %s", self.channel_id, exc.message)
        if failures and len(failures) == len(urls):
            raise failures[0]

    def _cached_feed(self, url: str) -> Feed:
        key = f"rss:feed:{hashlib.sha256(url.encode()).hexdigest()}"
        kept = cache.get(key)
        fetched = self._fetch(url, *(kept[1:] if kept else ("", "")))
        if fetched is None:
            return kept[0]
        cache.set(key, fetched, CACHE_SECONDS)
        return fetched[0]

    # --- HTTP ----------------------------------------------------------------------------------------

    def _fetch(self, url: str, etag: str = "", modified: str = "") -> tuple[Feed, str, str] | None:
        """(feed, ETag, Last-Modified), or None when the feed has not changed (304)."""
        headers = {"Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        host = httpx.URL(url).host
        ratelimit.acquire(f"rss:{host}", REQUESTS_PER_SECOND, sleep=_sleep)
        try:
            response = http.get(url, headers=headers, raise_for_status=False, user_url=True)
        except http.OutboundError as exc:
            raise _error(exc, host) from None
        if response.status_code == 304 and (etag or modified):
            return None
        if response.status_code != 200:
            raise _error(
                http.OutboundError(
                    f"GET {host} answered HTTP {response.status_code}",
                    status=response.status_code,
                    retry_after=http.parse_retry_after(response.headers.get("Retry-After")),
                    response=response,
                ),
                host,
            )
        if len(response.content) > MAX_FEED_BYTES:
            raise AdapterError(f"rss: the feed at {host} is larger than 5 MB", permanent=True)
        try:
            feed = parse_feed(response.content)
        except FeedError as exc:
            raise AdapterError(
                f"rss: the document at {host} is not a feed smmdesk can read: {exc}", permanent=True
            )
        return (
            feed,
            _validator(response.headers.get("ETag")),
            _validator(response.headers.get("Last-Modified")),
        )


def _error(exc: http.OutboundError, host: str) -> AdapterError:
    """The one place a failed feed request becomes an AdapterError with the right flags."""
    status = exc.status
    if isinstance(exc, http.UnsafeURLError):
        return AdapterError(f"rss: {exc.message}", permanent=True)
    if status in (401, 403):
        # A private feed whose token was revoked, or a site that shut us out: the address must change.
        return AdapterError(f"rss: the feed at {host} refuses access (HTTP {status})", reconnect=True)
    if status == 429:
        return AdapterError(f"rss: {host} asks to slow down", retry_after=exc.retry_after or 60.0)
    if status is not None and 400 <= status < 500:
        return AdapterError(
            f"rss: the feed at {host} answered HTTP {status}", permanent=status not in (408, 425)
        )
    return AdapterError(f"rss: {exc.message}", retry_after=exc.retry_after)


def matches(event: InboundEvent, query: str) -> bool:
    """Whether every word of `query` occurs in the entry's title or text, ignoring case."""
    haystack = f"{event.raw.get('subject', '')}\n{event.text}".casefold()
    return all(word in haystack for word in query.casefold().split())


def _event(url: str, feed: Feed, entry) -> InboundEvent:
    author = entry.author or feed.title or httpx.URL(url).host
    return InboundEvent(
        external_id=entry.id,
        kind="mention",
        author_id=author[:200],
        author_name=author[:200],
        text="\n\n".join(part for part in (entry.title, entry.text) if part),
        created_at=entry.published or datetime.now(UTC),
        author_url=feed.link,
        raw={"feed": url, "subject": entry.title[:300], "link": entry.link, "feed_title": feed.title[:200]},
    )


def _key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:8]


def _validator(value: str | None) -> str:
    value = (value or "").strip()
    return value if len(value) <= MAX_VALIDATOR else ""


def _load(cursor: str | None) -> dict[str, list]:
    try:
        state = json.loads(cursor or "{}")
    except ValueError:
        return {}
    if not isinstance(state, dict):
        return {}
    return {
        key: value
        for key, value in state.items()
        if isinstance(value, list) and len(value) == 3 and isinstance(value[2], int)
    }


def _dump(state: dict[str, list], keys: list[str]) -> str:
    """The cursor JSON for the configured feeds. Validators give way first when 500 characters do not
    hold them all: a feed without them is fetched in full, which is slower but still correct."""
    kept = {key: list(state[key]) for key in keys if key in state}
    text = json.dumps(kept, separators=(",", ":"))
    for key in reversed(keys):
        if len(text) <= CURSOR_MAX:
            break
        if key in kept:
            kept[key][0] = kept[key][1] = ""
            text = json.dumps(kept, separators=(",", ":"))
    return text
