"""Storing mentions: events a source brought become Mention rows, once each.

For a batch of events from one source: the channel's own posts are left out (echo), events already stored
for the workspace and channel change nothing, the rest are classified in one call (language, sentiment,
flags), matched against the workspace's terms, given their hashtags, phrases, reach and link, and placed in
a cluster of near-duplicates. Only events that mention a term are kept.

Clustering: the text is normalised (case folded; links, @handles and a leading "RT @x:" dropped;
punctuation and spaces collapsed) and compared with rapidfuzz's token_set_ratio against the clusters the
workspace saw in the last 48 hours, newest first and at most MAX_CANDIDATES of them, so the work per
mention is bounded. A score of at least SIMILAR joins the cluster (a repost, a quote, a copy with a
word changed); the mention is then a duplicate and the cluster's size grows. token_set_ratio calls any
text that contains all the words of another a perfect match, so two guards keep a short text from
swallowing long ones: the shorter of the two must have at least MIN_SHARE of the longer's words, and
texts of fewer than MIN_FUZZY_WORDS words join only an identical fingerprint.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rapidfuzz import fuzz, process

from smmdesk.channels.base import InboundEvent
from smmdesk.channels.models import Channel
from smmdesk.inbox.ingest import fit
from smmdesk.listening import matching
from smmdesk.listening.models import Mention, MentionCluster, Source
from smmdesk.nlp import triage

logger = logging.getLogger(__name__)

CLUSTER_WINDOW = timedelta(hours=48)
MAX_CANDIDATES = 500
SIMILAR = 90
MIN_FUZZY_WORDS = 3
MIN_SHARE = 0.5
URL_MAX = Mention._meta.get_field("url").max_length
RETWEET = re.compile(r"^\s*rt\s+@[\w.@-]+:?\s*", re.IGNORECASE)
HANDLE = re.compile(r"(?<!\w)@[\w.@-]+")
PUNCTUATION = re.compile(r"[^\w\s#]+")


def clean(text) -> str:
    """Text as stored: NUL characters, which PostgreSQL cannot store, are dropped."""
    return str(text or "").replace("\x00", "")


def normalise(text: str) -> str:
    """The text as clusters compare it."""
    text = matching.URL.sub(" ", (text or "").casefold())
    text = HANDLE.sub(" ", RETWEET.sub("", text))
    return " ".join(PUNCTUATION.sub(" ", text).split())


# --- what each network tells -----------------------------------------------------------------------

# Reach, one rule per network, from what its adapter keeps in event.raw:
# - vk: the post's views (newsfeed.search items carry views.count);
# - mastodon: the author's followers (statuses carry no view count);
# - x: the post's impressions (public_metrics.impression_count, when the API tier returns it);
# - bluesky: the author's followers, when the profile in the answer has them;
# - fake: raw["reach"], set by tests and the demo;
# - telegram, rss, e-mail and the rest: none told.
REACH_PATHS = {
    "vk": ("views", "count"),
    "mastodon": ("account", "followers_count"),
    "x": ("public_metrics", "impression_count"),
    "bluesky": ("author", "followersCount"),
    "fake": ("reach",),
}


def reach_of(kind: str, raw) -> int | None:
    value = raw
    for key in REACH_PATHS.get(kind, ()):
        value = value.get(key) if isinstance(value, dict) else None
    if value is raw or isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return min(int(value), 2**31 - 1)


def web_link(value) -> str:
    """A link worth offering: an http(s) address that fits the column, else ""."""
    if isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= URL_MAX:
        return value
    return ""


def url_of(kind: str, event: InboundEvent) -> str:
    raw = event.raw if isinstance(event.raw, dict) else {}
    for key in ("url", "link"):
        if web_link(raw.get(key)):
            return raw[key]
    if kind == "x":
        return f"https://x.com/i/web/status/{event.external_id}"
    if kind == "bluesky":
        from smmdesk.channels.bluesky.payloads import post_url

        return web_link(post_url(event.external_id, event.author_handle.lstrip("@")))
    if kind == "vk":
        from smmdesk.channels.vk import events as vk_events

        match = vk_events.COMMENT_ID.match(event.external_id) or vk_events.POST_THREAD.match(
            event.external_id
        )
        if match:
            comment = int(match[3]) if match.re is vk_events.COMMENT_ID else None
            return vk_events.post_url(int(match[1]), int(match[2]), comment)
    return ""


# --- clusters ----------------------------------------------------------------------------------------


class Clusters:
    """The workspace's recent clusters, loaded once per batch and kept current as the batch adds some."""

    def __init__(self, workspace_id: int, now: datetime):
        self.workspace_id = workspace_id
        rows = MentionCluster.objects.filter(
            workspace_id=workspace_id, last_seen__gte=now - CLUSTER_WINDOW
        ).order_by("-last_seen", "-pk")[:MAX_CANDIDATES]
        self.rows = list(rows)
        self.fingerprints = [row.fingerprint for row in self.rows]
        self.sizes = [len(f.split()) for f in self.fingerprints]

    def find(self, fingerprint: str) -> MentionCluster | None:
        if not fingerprint:
            return None
        size = len(fingerprint.split())
        if size < MIN_FUZZY_WORDS:
            index = next((i for i, f in enumerate(self.fingerprints) if f == fingerprint), None)
            return None if index is None else self.rows[index]
        for _text, _score, index in process.extract(
            fingerprint, self.fingerprints, scorer=fuzz.token_set_ratio, score_cutoff=SIMILAR, limit=10
        ):
            other = self.sizes[index]
            if other >= MIN_FUZZY_WORDS and min(size, other) / max(size, other) >= MIN_SHARE:
                return self.rows[index]
        return None

    def add(self, cluster: MentionCluster) -> None:
        self.rows.insert(0, cluster)
        self.fingerprints.insert(0, cluster.fingerprint)
        self.sizes.insert(0, len(cluster.fingerprint.split()))


# --- storing -----------------------------------------------------------------------------------------


@dataclass
class Intake:
    """What one batch stored: the new mentions, in the order of their events."""

    created: list[Mention] = field(default_factory=list)
    repeated: int = 0
    unmatched: int = 0


def _languages(source: Source) -> list[str]:
    profile = getattr(source.workspace, "profile", None)
    return list(profile.languages) if profile is not None else []


def take_in(
    source: Source,
    events: list[InboundEvent],
    *,
    matcher: matching.Matcher | None = None,
    term_id: int | None = None,
    now: datetime | None = None,
) -> Intake:
    """Store the events that mention a term. `term_id`: the term a network search was made for; the
    network's own matching is trusted for it (its morphology may see what ours does not), but the
    term's exclusions and languages still apply. Safe to call again with the same events."""
    now = now or timezone.now()
    channel: Channel = source.channel
    matcher = matcher or matching.Matcher.for_workspace(source.workspace_id)
    result = Intake()
    fresh = _new_events(source, channel, events, result)
    if not fresh:
        return result
    verdicts = triage.classify_many([event.text for event in fresh], _languages(source))
    clusters = Clusters(source.workspace_id, now)
    conversations = _inbox_conversations(channel, fresh) if source.kind == Source.Kind.OWN else {}
    for event, verdict in zip(fresh, verdicts, strict=True):
        found = matching.tokens(event.text, verdict.language)
        terms = matcher.match(event.text, verdict.language, found)
        if (
            term_id is not None
            and term_id not in terms
            and matcher.allows(term_id, "", verdict.language, found)
        ):
            terms.append(term_id)
        if not terms:
            result.unmatched += 1
            continue
        external_id = fit(event.external_id)
        mention = Mention(
            workspace_id=source.workspace_id,
            source=source,
            channel=channel,
            external_id=external_id,
            url=url_of(channel.kind, event),
            author_name=clean(event.author_name)[:200],
            author_handle=clean(event.author_handle)[:200],
            author_url=web_link(event.author_url),
            author_external_id=clean(event.author_id)[:200],
            text=clean(event.text),
            language=verdict.language or "",
            sentiment=verdict.sentiment or "",
            sentiment_score=verdict.score,
            flags=list(verdict.flags),
            reach=reach_of(channel.kind, event.raw),
            hashtags=matching.hashtags_of(event.text),
            phrases=matching.phrases(event.text, verdict.language),
            published_at=event.created_at,
            fetched_at=now,
        )
        conversation_id = conversations.get(external_id)
        if conversation_id:
            # A comment the inbox took in already has its conversation there.
            mention.conversation_id, mention.status = conversation_id, Mention.Status.IN_INBOX
        if _store(mention, terms, clusters, now):
            result.created.append(mention)
        else:
            result.repeated += 1
    return result


def _new_events(source: Source, channel: Channel, events: list[InboundEvent], result: Intake):
    """Events not stored yet and not the channel's own posts, each once."""
    ids = {fit(event.external_id) for event in events}
    known = set(
        Mention.objects.filter(
            workspace_id=source.workspace_id, channel=channel, external_id__in=ids
        ).values_list("external_id", flat=True)
    )
    fresh = []
    for event in events:
        external_id = fit(event.external_id)
        if external_id in known or (channel.account_id and event.author_id == channel.account_id):
            result.repeated += 1
            continue
        known.add(external_id)
        fresh.append(event)
    return fresh


def _inbox_conversations(channel: Channel, events: list[InboundEvent]) -> dict[str, int]:
    from smmdesk.inbox.models import Message

    ids = [fit(event.external_id) for event in events]
    return dict(Message.objects.by_external_id(channel, ids).values_list("external_id", "conversation_id"))


def _store(mention: Mention, terms: list[int], clusters: Clusters, now: datetime) -> bool:
    """Save one mention with its cluster and terms; False when another worker stored it first."""
    fingerprint = normalise(mention.text)
    cluster = clusters.find(fingerprint)
    try:
        with transaction.atomic():
            if cluster is None and fingerprint:
                new = MentionCluster.objects.create(
                    workspace_id=mention.workspace_id, fingerprint=fingerprint, first_seen=now, last_seen=now
                )
            else:
                new = None
            mention.cluster = cluster or new
            mention.duplicate = cluster is not None
            mention.save()
            mention.terms.add(*terms)
            if cluster is not None:
                MentionCluster.objects.filter(pk=cluster.pk).update(size=F("size") + 1, last_seen=now)
    except IntegrityError:
        return False
    if new is not None:
        clusters.add(new)
    return True
