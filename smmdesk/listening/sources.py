"""Polling the sources: each on its own schedule, with backoff and a health of its own.

- SEARCH (a network that searches: Mastodon, Bluesky, VK newsfeed.search, X, the fake network): one
  adapter.search per active term, since the newest mention seen for that term (kept in Source.cursor).
- FEED (RSS/Atom, which can be read but not searched well): adapter.poll from the stored cursor, and
  every entry is matched here.
- OWN (a channel whose comments and posts reach the inbox): never polled; ingestion hands its events to
  `on_inbox_events` after they commit.

The minute task claims every due source with a conditional UPDATE of claimed_until (a lease ending
LEASE from now), so two schedulers never queue one source twice, and queues one task per source, so a
slow or broken network never holds up another. The poll task takes the lease over before calling the
network, with another conditional UPDATE that moves claimed_until a further LEASE on: a claim that ends
beyond now + LEASE is a poll running, which a second copy of the task leaves alone. The outcome is
written only while the poll still holds its lease; a crashed poll's lease runs out after it.

Outcome: success sets health ok and the next poll one interval later; any failure (an AdapterError, a
timeout, a 404, a document that is not a feed, a bug) counts a failure, keeps the error text (secrets
scrubbed) and waits interval x 2^failures, at most BACKOFF_MAX, or longer if the network asked for it.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from smmdesk.channels import health as channel_health
from smmdesk.channels.actions import scrub
from smmdesk.channels.base import Adapter, AdapterError, Capability, InboundEvent
from smmdesk.channels.models import Channel
from smmdesk.listening import alerts, intake, matching
from smmdesk.listening.models import Source, TrackedTerm

logger = logging.getLogger(__name__)

Kind = Source.Kind
Health = Source.Health
LEASE = timedelta(minutes=10)
BACKOFF_MAX = timedelta(hours=6)
# A term searched for the first time looks this far back.
FIRST_LOOKBACK = timedelta(days=1)
# Terms searched per poll; the rest wait for the next one (the cursor says where each stands).
MAX_TERMS_PER_POLL = 50
ERROR_MAX = 2000
MAX_DUE = 1000


# --- what a channel can be ---------------------------------------------------------------------------


def kinds_for(channel: Channel) -> list[str]:
    """The source kinds a channel can be, the one it gets by default first."""
    if not channel.known_kind:
        return []
    adapter: type[Adapter] = channel.adapter_class
    kinds = []
    searches = Capability.SEARCH in adapter.capabilities
    if searches and Capability.INBOX not in adapter.capabilities and adapter.poll is not Adapter.poll:
        kinds.append(Kind.FEED)
    elif searches and adapter.search is not Adapter.search:
        kinds.append(Kind.SEARCH)
    # Public comments and posts exist where the workspace publishes; e-mail and the site chat are private.
    if {Capability.INBOX, Capability.PUBLISH} <= adapter.capabilities:
        kinds.append(Kind.OWN)
    return kinds


# --- claiming ----------------------------------------------------------------------------------------


def _due(now: datetime):
    return (
        Source.objects.filter(active=True, kind__in=(Kind.SEARCH, Kind.FEED))
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    )


def claim(source_id: int, now: datetime | None = None) -> bool:
    """Take the lease on a due source; False when it is not due or someone holds it."""
    now = now or timezone.now()
    return bool(_due(now).filter(pk=source_id).update(claimed_until=now + LEASE))


def claim_due(now: datetime | None = None) -> list[int]:
    """Claim every due source; the ids this run won."""
    now = now or timezone.now()
    candidates = list(_due(now).order_by("next_poll_at", "pk").values_list("pk", flat=True)[:MAX_DUE])
    return [pk for pk in candidates if claim(pk, now)]


# --- polling -----------------------------------------------------------------------------------------


def _load(cursor: str) -> dict:
    try:
        state = json.loads(cursor or "{}")
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _mapping(state: dict, name: str) -> dict:
    value = state.get(name)
    return value if isinstance(value, dict) else {}


def _moment(value) -> datetime | None:
    moment = parse_datetime(value) if isinstance(value, str) else None
    return moment if moment is not None and timezone.is_aware(moment) else None


def search_query(term: TrackedTerm) -> str:
    phrase = " ".join(term.phrase.split())
    if phrase.startswith("#"):
        return "#" + phrase[1:].lstrip("#")
    return phrase


class _Run:
    """One poll's progress: kept even when a later step fails, so what was stored is not asked again."""

    def __init__(self, source: Source):
        self.source = source
        self.state = _load(source.cursor)
        self.found = 0

    def take_in(self, events, matcher, now, term_id=None) -> None:
        stored = intake.take_in(self.source, events, matcher=matcher, term_id=term_id, now=now)
        self.found += len(stored.created)
        alerts.after_intake(stored.created, now)

    def search(self, adapter: Adapter, now: datetime) -> None:
        matcher = matching.Matcher.for_workspace(self.source.workspace_id)
        terms = list(TrackedTerm.objects.filter(workspace_id=self.source.workspace_id, active=True))
        alive = {str(term.pk) for term in terms}
        # "terms": the newest mention seen per term; "asked": when each was last searched for.
        seen, asked = (
            {k: v for k, v in _mapping(self.state, name).items() if k in alive} for name in ("terms", "asked")
        )
        self.state.update(terms=seen, asked=asked)
        # The terms asked about longest ago go first, so more terms than one poll takes all get their turn.
        ordered = sorted(terms, key=lambda t: (asked.get(str(t.pk), ""), t.pk))[:MAX_TERMS_PER_POLL]
        for term in ordered:
            key = str(term.pk)
            since = _moment(seen.get(key)) or now - FIRST_LOOKBACK
            events = adapter.search(search_query(term), since)
            self.take_in(events, matcher, now, term_id=term.pk)
            seen[key] = max([since, *(e.created_at for e in events if e.created_at <= now)]).isoformat()
            asked[key] = now.isoformat()

    def feed(self, adapter: Adapter, now: datetime) -> None:
        matcher = matching.Matcher.for_workspace(self.source.workspace_id)
        events, cursor = adapter.poll(self.state.get("feed") or None)
        self.take_in(events, matcher, now)
        self.state["feed"] = cursor or ""

    def cursor(self) -> str:
        return json.dumps(self.state, separators=(",", ":"))


def poll_source(source_id: int, now: datetime | None = None) -> Source | None:
    """Poll one claimed source and record the outcome. A run that does not hold the lease (the source
    was polled already, or another run took it over) does nothing."""
    now = now or timezone.now()
    source = Source.objects.select_related("channel", "workspace__profile").filter(pk=source_id).first()
    if source is None or not source.active or source.kind == Kind.OWN:
        return source
    held = source.claimed_until
    # A scheduler's claim ends within LEASE from now; a running poll's lease lies beyond that, so a
    # second copy of this task (or one started after the first took over) steps back here.
    if held is None or not now < held <= now + LEASE:
        return source
    lease = held + LEASE
    if not Source.objects.filter(pk=source_id, claimed_until=held).update(claimed_until=lease):
        return source
    run = _Run(source)
    try:
        adapter = _adapter(source)
        if source.kind == Kind.SEARCH:
            run.search(adapter, now)
        else:
            run.feed(adapter, now)
    except AdapterError as exc:
        _failed(source, lease, run, exc, now)
    except Exception as exc:  # noqa: BLE001 - a bug or an odd answer must show in the health, not kill the task
        logger.error(
            "listening source %s: poll crashed: %s",
            source_id,
            scrub("".join(traceback.format_exception(exc)), _secrets(source.channel)),
        )
        _failed(
            source,
            lease,
            run,
            AdapterError(_("The poll failed unexpectedly: %(error)s") % {"error": exc}),
            now,
        )
    else:
        Source.objects.filter(pk=source_id, claimed_until=lease).update(
            claimed_until=None,
            cursor=run.cursor(),
            health=Health.OK,
            failures=0,
            last_error="",
            last_polled_at=now,
            last_ok_at=now,
            next_poll_at=now + timedelta(minutes=source.interval_minutes),
            found_total=F("found_total") + run.found,
        )
    return Source.objects.filter(pk=source_id).first()


def _secrets(channel: Channel) -> dict:
    try:
        return channel.secret_values()
    except ValueError:
        return {}


def _adapter(source: Source) -> Adapter:
    channel = source.channel
    if not channel.known_kind:
        raise AdapterError(_("This network is no longer supported by this installation."), permanent=True)
    if channel.status == Channel.Status.DISABLED:
        raise AdapterError(_("The channel is disabled."), permanent=True)
    if channel.status == Channel.Status.NEEDS_RECONNECT:
        raise AdapterError(_("The channel needs reconnecting."), permanent=True)
    try:
        return channel.adapter()
    except ValueError:
        raise AdapterError(
            _("The channel's secrets cannot be read with the current encryption key."), permanent=True
        )


def backoff(interval_minutes: int, failures: int, retry_after: float | None = None) -> timedelta:
    wait = min(timedelta(minutes=interval_minutes) * 2 ** min(failures, 20), BACKOFF_MAX)
    if retry_after:
        wait = max(wait, timedelta(seconds=retry_after))
    return wait


def _failed(source: Source, lease: datetime, run: _Run, exc: AdapterError, now: datetime) -> None:
    if exc.reconnect:
        # The owners hear of a revoked token once, from the channel; the source only shows it.
        channel_health.record_failure(source.channel, exc)
    failures = source.failures + 1
    reason = scrub(str(exc.message or exc), _secrets(source.channel))[:ERROR_MAX]
    Source.objects.filter(pk=source.pk, claimed_until=lease).update(
        claimed_until=None,
        cursor=run.cursor(),
        health=Health.FAILING,
        failures=failures,
        last_error=reason or _("The network refused the request."),
        last_polled_at=now,
        next_poll_at=now + backoff(source.interval_minutes, failures, exc.retry_after),
        found_total=F("found_total") + run.found,
    )
    logger.warning("listening source %s failed (%s in a row): %s", source.pk, failures, reason)


# --- the workspace's own channels --------------------------------------------------------------------


def on_inbox_events(channel_id: int, events: list[InboundEvent]) -> None:
    """Ingestion's listener: comments, mentions and listening-only channel posts of a channel, after
    their batch committed. Queued for matching if the channel is an active OWN source."""
    heard = [e for e in events if not (isinstance(e.raw, dict) and e.raw.get("listening_mention"))]
    if not heard:
        return
    sources = Source.objects.filter(channel_id=channel_id, kind=Kind.OWN, active=True)
    from smmdesk.listening.tasks import take_in_own_task

    for source_id in sources.values_list("pk", flat=True):
        take_in_own_task(source_id, heard)


def take_in_own(source_id: int, events: list[InboundEvent], now: datetime | None = None) -> int:
    """Match a batch of an own channel's events and store the mentions; how many were new."""
    now = now or timezone.now()
    source = Source.objects.select_related("channel", "workspace__profile").filter(pk=source_id).first()
    if source is None or not source.active or source.kind != Kind.OWN:
        return 0
    stored = intake.take_in(source, events, now=now)
    alerts.after_intake(stored.created, now)
    Source.objects.filter(pk=source_id).update(
        health=Health.OK, failures=0, last_error="", last_polled_at=now, last_ok_at=now
    )
    if stored.created:
        Source.objects.filter(pk=source_id).update(found_total=F("found_total") + len(stored.created))
    return len(stored.created)
