"""Best times to post, per channel, from how the channel's own past posts did.

The method (docs/publishing.md, "Best time to post"):
1. Take the channel's published variants of the last LOOKBACK_DAYS that have figures.
2. Score each: its engagement rate (likes + comments + shares) / reach when the network reports a
   reach for most of them, otherwise its engagement count (still comparable within one channel).
3. Put each in a slot: the weekday and hour it went out, in the business's time zone.
4. Smooth each slot toward the channel's mean with a Bayesian average,
   score = (sum of the slot's scores + PRIOR_WEIGHT × channel mean) / (posts in the slot + PRIOR_WEIGHT),
   so one lucky post cannot top the list: a slot needs several good posts to pull far from the mean.
5. Suggest the TOP slots by that score (more posts first on a tie).

With fewer than MIN_POSTS measured posts the history says nothing yet, and the suggestion is the
network's conventional default slots (DEFAULT_SLOTS), marked as such, never presented as measured.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from smmdesk.accounts.models import Workspace
from smmdesk.channels.base import Capability
from smmdesk.channels.models import Channel
from smmdesk.publishing.models import Variant
from smmdesk.publishing.reports import figures, latest_metrics
from smmdesk.publishing.scheduling import workspace_zone

LOOKBACK_DAYS = 180
MIN_POSTS = 10
PRIOR_WEIGHT = 3.0
TOP = 3

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
# Starting points, not measurements: the slots commonly recommended for each network's audience, in
# the business's local time. Used until the channel has MIN_POSTS measured posts.
DEFAULT_SLOTS: dict[str, tuple[tuple[int, int], ...]] = {
    "vk": ((TUE, 19), (THU, 19), (SAT, 12)),
    "telegram": ((TUE, 9), (WED, 13), (THU, 20)),
    "instagram": ((TUE, 11), (WED, 11), (FRI, 10)),
    "facebook": ((TUE, 10), (WED, 12), (THU, 10)),
    "x": ((TUE, 9), (WED, 12), (THU, 9)),
    "mastodon": ((TUE, 10), (WED, 14), (THU, 10)),
    "bluesky": ((TUE, 10), (WED, 14), (THU, 10)),
    "other": ((TUE, 10), (THU, 12), (SAT, 11)),
}


@dataclass(frozen=True)
class Slot:
    weekday: int  # 0 = Monday, as datetime.weekday()
    hour: int  # 0..23, local time
    score: float | None = None  # the smoothed score; None for a default slot
    posts: int = 0  # measured posts that went out in this slot


@dataclass
class Suggestion:
    channel_id: int
    channel: str
    source: str  # "history" or "default"
    measure: str  # "rate", "engagement", or "" for defaults
    posts: int  # measured posts the suggestion rests on
    mean: float | None
    slots: list[Slot] = field(default_factory=list)


def network_of(channel: Channel) -> str:
    """The network whose defaults apply; a fake channel says which network it stands for."""
    if channel.kind == "fake":
        return str((channel.config or {}).get("stands_for") or "other")
    return channel.kind if channel.kind in DEFAULT_SLOTS else "other"


def defaults(channel: Channel) -> list[Slot]:
    slots = DEFAULT_SLOTS.get(network_of(channel), DEFAULT_SLOTS["other"])
    return [Slot(weekday, hour) for weekday, hour in slots]


def observations(
    channel: Channel, zone: ZoneInfo, since: datetime
) -> tuple[str, list[tuple[int, int, float]]]:
    """(measure, [(weekday, hour, score)]) for the channel's measured posts since `since`."""
    variants = list(
        Variant.objects.filter(
            channel=channel, state=Variant.State.PUBLISHED, published_at__gte=since
        ).values_list("pk", "published_at")
    )
    metrics = latest_metrics(pk for pk, _when in variants)
    measured = []
    for pk, when in variants:
        found = figures(metrics.get(pk, {}))
        if found is not None:
            local = timezone.localtime(when, zone)
            measured.append((local.weekday(), local.hour, found))
    with_reach = [m for m in measured if m[2].rate is not None]
    # Rates and counts cannot be mixed in one ranking: rates when most posts have a reach.
    if measured and len(with_reach) * 2 >= len(measured):
        return "rate", [(day, hour, found.rate) for day, hour, found in with_reach]
    return "engagement", [(day, hour, found.engagement) for day, hour, found in measured]


def rank(
    scored: list[tuple[int, int, float]], prior_weight: float = PRIOR_WEIGHT, top: int = TOP
) -> tuple[float | None, list[Slot]]:
    """(the mean, the best `top` slots) by the Bayesian average of each slot's scores."""
    if not scored:
        return None, []
    mean = sum(score for _day, _hour, score in scored) / len(scored)
    totals: dict[tuple[int, int], list[float]] = defaultdict(list)
    for day, hour, score in scored:
        totals[(day, hour)].append(score)
    slots = [
        Slot(day, hour, (sum(values) + prior_weight * mean) / (len(values) + prior_weight), len(values))
        for (day, hour), values in totals.items()
    ]
    slots.sort(key=lambda s: (-s.score, -s.posts, s.weekday, s.hour))
    return mean, slots[:top]


def suggest(channel: Channel, now: datetime | None = None, zone: ZoneInfo | None = None) -> Suggestion:
    now = now or timezone.now()
    zone = zone or workspace_zone(channel.workspace)
    measure, scored = observations(channel, zone, now - timedelta(days=LOOKBACK_DAYS))
    if len(scored) < MIN_POSTS:
        return Suggestion(channel.pk, channel.name, "default", "", len(scored), None, defaults(channel))
    mean, slots = rank(scored)
    return Suggestion(channel.pk, channel.name, "history", measure, len(scored), mean, slots)


def publishing_channels(workspace: Workspace):
    """The workspace's channels that can publish (the others have no best time)."""
    return [
        channel
        for channel in Channel.objects.filter(workspace=workspace).exclude(status=Channel.Status.DISABLED)
        if channel.known_kind and Capability.PUBLISH in channel.adapter_class.capabilities
    ]


def suggest_all(workspace: Workspace, now: datetime | None = None) -> list[Suggestion]:
    zone = workspace_zone(workspace)
    return [suggest(channel, now, zone) for channel in publishing_channels(workspace)]


def next_time(slot: Slot, zone: ZoneInfo, after: datetime) -> datetime:
    """The next moment (aware) at the slot's local weekday and hour after `after`; a slot that falls in a
    spring-forward gap that day moves on by the gap, as the clock does."""
    local = timezone.localtime(after, zone)
    for days in range(8):
        day = local.date() + timedelta(days=days)
        if day.weekday() != slot.weekday:
            continue
        candidate = datetime.combine(day, time(slot.hour), tzinfo=zone)
        if candidate > after:
            return candidate.astimezone(ZoneInfo("UTC"))
    raise AssertionError("a weekday comes round within 8 days")  # pragma: no cover
