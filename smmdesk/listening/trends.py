"""Trends: bursts in hourly counts of tracked terms, hashtags and emerging phrases, with their evidence.

Every ten minutes, for each workspace with recent mentions, the mentions of the last 14 days (not
duplicates: a repost is not a second voice) are counted per hour and per series:
- each tracked term (the mentions it matched);
- each hashtag (Mention.hashtags);
- each phrase (Mention.phrases: content lemmas and pairs of them), when at least MIN_NGRAM_MENTIONS
  distinct mentions use it and it is not a tracked term already.
Only series with at least MIN_BURST mentions in the last RECENT_BUCKETS hours can burst now, and at most
MAX_SERIES of them are tested, terms first and then the most frequent there, so a run's work is bounded.

Each series goes through the product's burst detector (smmdesk.listening.detector). An alert in the last
RECENT_BUCKETS hours, on a bucket with at least MIN_BURST mentions (the detector judges rates; a trend
card about two posts would be noise), makes a Trend, or updates the one of the same key seen within
CONTINUES (the same burst): score, the counts around it for the chart, up to MAX_EXAMPLES example
mentions. A key that no tracked term covers is `emerging`. Running twice changes nothing more.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from smmdesk.listening import matching
from smmdesk.listening.models import Mention, TrackedTerm, Trend

logger = logging.getLogger(__name__)

BUCKET = timedelta(hours=1)
WINDOW = timedelta(days=14)
RECENT_BUCKETS = 2
MAX_SERIES = 200
MAX_MENTIONS = 50_000
MIN_BURST = 3
MIN_NGRAM_MENTIONS = 3
CHART_BEFORE = timedelta(hours=48)
CHART_AFTER = timedelta(hours=24)
MAX_EXAMPLES = 5
CONTINUES = timedelta(hours=6)
KEY_MAX = Trend._meta.get_field("key").max_length


def hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass
class Series:
    kind: str
    key: str
    term_id: int | None = None
    counts: Counter = field(default_factory=Counter)
    # Mention ids per bucket index, for the examples.
    mentions: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, index: int, mention_id: int) -> None:
        self.counts[index] += 1
        self.mentions[index].append(mention_id)

    @property
    def distinct(self) -> int:
        return sum(len(ids) for ids in self.mentions.values())


def workspaces_to_scan(now: datetime | None = None) -> list[int]:
    """Workspaces with a mention in the hours a burst can be found in."""
    now = now or timezone.now()
    since = hour(now) - (RECENT_BUCKETS - 1) * BUCKET
    return list(
        Mention.objects.filter(published_at__gte=since, duplicate=False)
        .order_by()
        .values_list("workspace_id", flat=True)
        .distinct()
    )


def tracked_keys(terms: list[TrackedTerm]) -> set[str]:
    """The hashtag and phrase keys tracked terms already cover."""
    keys = set()
    for term in terms:
        phrase = term.phrase.strip()
        if phrase.startswith("#"):
            keys.add("#" + matching.fold(phrase[1:]))
            continue
        keys.add("#" + "".join(matching.fold(w) for w in matching.WORD.findall(phrase)))
        lemmas = matching.phrases(phrase)
        if lemmas:
            # The whole phrase's lemmas: the longest entry for one or two words.
            keys.add(max(lemmas, key=len))
        keys.add(" ".join(matching.fold(w) for w in matching.WORD.findall(phrase)))
    return keys


class Grid:
    """The hourly buckets of the window, the last one being the hour now running."""

    def __init__(self, now: datetime):
        self.end = hour(now)
        self.size = int(WINDOW / BUCKET)
        self.start = self.end - (self.size - 1) * BUCKET
        self.times = [self.start + i * BUCKET for i in range(self.size)]

    def index(self, moment: datetime) -> int | None:
        offset = (moment - self.start) // BUCKET
        return offset if 0 <= offset < self.size else None

    @property
    def recent(self) -> int:
        return self.size - RECENT_BUCKETS


def _rows(workspace_id: int, grid: Grid):
    return list(
        Mention.objects.filter(
            workspace_id=workspace_id,
            duplicate=False,
            published_at__gte=grid.start,
            published_at__lt=grid.end + BUCKET,
        )
        .order_by("-published_at")
        .values_list("pk", "published_at", "hashtags", "phrases")[:MAX_MENTIONS]
    )


def _term_links(workspace_id: int, grid: Grid) -> dict[int, list[int]]:
    links = defaultdict(list)
    rows = Mention.terms.through.objects.filter(
        mention__workspace_id=workspace_id,
        mention__duplicate=False,
        mention__published_at__gte=grid.start,
        mention__published_at__lt=grid.end + BUCKET,
    ).values_list("mention_id", "trackedterm_id")
    for mention_id, term_id in rows:
        links[mention_id].append(term_id)
    return links


def candidate_series(
    workspace_id: int, grid: Grid, terms: list[TrackedTerm], tracked: set[str]
) -> list[Series]:
    """The series worth testing, counted over the window: terms first, then the hashtags and phrases
    most frequent in the recent buckets, MAX_SERIES in all. `tracked`: tracked_keys(terms)."""
    rows = _rows(workspace_id, grid)
    links = _term_links(workspace_id, grid)
    by_term = {term.pk: term for term in terms}
    recent: Counter = Counter()
    for pk, published, hashtags, phrases in rows:
        index = grid.index(published)
        if index is None or index < grid.recent:
            continue
        # A tracked term's own hashtag is its term's series already: one card per burst, not two.
        recent.update((Trend.Kind.HASHTAG, tag) for tag in hashtags or [] if tag not in tracked)
        recent.update((Trend.Kind.NGRAM, phrase) for phrase in phrases or [] if phrase not in tracked)
        recent.update((Trend.Kind.TERM, term_id) for term_id in links.get(pk, []) if term_id in by_term)
    chosen: dict[tuple, Series] = {}
    # A series with fewer than MIN_BURST recent mentions cannot trend now: not worth a slot.
    frequent = [(key, n) for key, n in recent.items() if n >= MIN_BURST]
    for (kind, key), _n in sorted(frequent, key=lambda item: (item[0][0] != Trend.Kind.TERM, -item[1])):
        if len(chosen) >= MAX_SERIES:
            break
        if kind == Trend.Kind.TERM:
            chosen[(kind, key)] = Series(kind, by_term[key].phrase[:KEY_MAX], term_id=key)
        elif len(key) <= KEY_MAX:
            chosen[(kind, key)] = Series(kind, key)
    for pk, published, hashtags, phrases in rows:
        index = grid.index(published)
        if index is None:
            continue
        keys = [(Trend.Kind.HASHTAG, tag) for tag in hashtags or []]
        keys += [(Trend.Kind.NGRAM, phrase) for phrase in phrases or []]
        keys += [(Trend.Kind.TERM, term_id) for term_id in links.get(pk, [])]
        for key in keys:
            series = chosen.get(key)
            if series is not None:
                series.add(index, pk)
    return [s for s in chosen.values() if s.kind != Trend.Kind.NGRAM or s.distinct >= MIN_NGRAM_MENTIONS]


def detect(workspace_id: int, now: datetime | None = None) -> list[Trend]:
    """Find the workspace's bursts now; the trends made or updated."""
    from smmdesk.listening import detector

    now = now or timezone.now()
    grid = Grid(now)
    terms = list(TrackedTerm.objects.filter(workspace_id=workspace_id, active=True))
    tracked = tracked_keys(terms)
    found = []
    for series in candidate_series(workspace_id, grid, terms, tracked):
        values = [float(series.counts.get(i, 0)) for i in range(grid.size)]
        try:
            burst = [a for a in detector.detect(grid.times, values) if a.index >= grid.recent]
        except ValueError:
            logger.exception("trend detection failed on %s %r", series.kind, series.key)
            continue
        burst = [a for a in burst if values[a.index] >= MIN_BURST]
        if not burst:
            continue
        alert = max(burst, key=lambda a: a.index)
        emerging = series.kind != Trend.Kind.TERM and series.key not in tracked
        found.append(_record(workspace_id, series, grid, alert, emerging, now))
    return found


def _chart(series: Series, grid: Grid, started: datetime) -> list[list]:
    first, last = started - CHART_BEFORE, min(started + CHART_AFTER, grid.end)
    return [
        [moment.isoformat(), series.counts.get(index, 0)]
        for index, moment in enumerate(grid.times)
        if first <= moment <= last
    ]


def _examples(series: Series, since_index: int) -> list[int]:
    ids = [
        pk
        for index in sorted(series.mentions, reverse=True)
        if index >= since_index
        for pk in series.mentions[index]
    ]
    return ids[:MAX_EXAMPLES]


def _record(workspace_id: int, series: Series, grid: Grid, alert, emerging: bool, now: datetime) -> Trend:
    with transaction.atomic():
        trend = (
            Trend.objects.select_for_update()
            .filter(
                workspace_id=workspace_id, kind=series.kind, key=series.key, last_seen_at__gte=now - CONTINUES
            )
            .order_by("-started_at")
            .first()
        )
        if trend is None:
            started = grid.times[alert.index]
            try:
                with transaction.atomic():
                    trend, _created = Trend.objects.get_or_create(
                        workspace_id=workspace_id,
                        kind=series.kind,
                        key=series.key,
                        started_at=started,
                        defaults={"score": alert.score, "term_id": series.term_id, "detected_at": now},
                    )
            except IntegrityError:
                trend = Trend.objects.get(
                    workspace_id=workspace_id, kind=series.kind, key=series.key, started_at=started
                )
        trend.score = max(trend.score, alert.score)
        trend.last_seen_at = now
        trend.emerging = emerging
        trend.term_id = series.term_id
        trend.bucket_minutes = int(BUCKET.total_seconds() // 60)
        trend.counts = _chart(series, grid, trend.started_at)
        trend.save(update_fields=["score", "last_seen_at", "emerging", "term", "bucket_minutes", "counts"])
        start_index = grid.index(trend.started_at)
        trend.examples.set(_examples(series, start_index if start_index is not None else 0))
    return trend
