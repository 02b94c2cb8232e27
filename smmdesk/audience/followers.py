"""Follower growth: each channel's followers (members, subscribers) once a day, as its network reports
them, and the growth over a period.

The daily task asks every channel whose network can tell (Adapter.followers); a second reading on the
same day replaces the first, so the task may run twice. The day is the workspace's own (its time zone),
so a reading taken just after midnight in Orenburg belongs to Orenburg's new day.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.utils import timezone

from smmdesk.accounts.models import Workspace
from smmdesk.audience.models import FollowerCount
from smmdesk.channels import health, registry
from smmdesk.channels.base import Adapter, AdapterError
from smmdesk.channels.models import Channel
from smmdesk.publishing.scheduling import workspace_zone

logger = logging.getLogger(__name__)

# A channel that needs its owner's attention is not asked: the call would fail the same way every day.
SKIP_STATUSES = (Channel.Status.NEEDS_RECONNECT, Channel.Status.DISABLED)
MAX_DAYS = 366


def counting_kinds() -> list[str]:
    """The networks whose adapter can tell its followers (the others keep the base's None)."""
    return [kind for kind, adapter in registry.ADAPTERS.items() if adapter.followers is not Adapter.followers]


def local_today(workspace: Workspace) -> date:
    return timezone.localtime(timezone.now(), workspace_zone(workspace)).date()


def channels_to_record() -> list[int]:
    return list(
        Channel.objects.filter(kind__in=counting_kinds())
        .exclude(status__in=SKIP_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def record_followers(channel: Channel, today: date) -> FollowerCount | None:
    """Ask the network for the channel's followers and keep them as `today`'s figure (replacing an earlier
    reading of that day). None when the network does not tell. A failed call is noted on the channel
    (a revoked token asks its owners to reconnect) and raised."""
    try:
        count = channel.adapter().followers()
    except AdapterError as exc:
        health.record_failure(channel, exc)
        raise
    if count is None:
        return None
    # One statement that inserts or updates: two workers recording the same day never make two rows.
    FollowerCount.objects.bulk_create(
        [FollowerCount(channel=channel, date=today, followers=count, measured_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["channel", "date"],
        update_fields=["followers", "measured_at"],
    )
    return FollowerCount.objects.get(channel=channel, date=today)


def record_channel(channel_id: int) -> FollowerCount | None:
    """The task's body: today's reading for one channel, in its workspace's day."""
    channel = (
        Channel.objects.select_related("workspace__profile")
        .filter(pk=channel_id, kind__in=counting_kinds())
        .exclude(status__in=SKIP_STATUSES)
        .first()
    )
    if channel is None:
        return None
    return record_followers(channel, local_today(channel.workspace))


def record_all() -> dict[str, int]:
    """Every channel in turn, in this process (the CLI and tests; the periodic task queues one task per
    channel instead). One failing channel never stops the others."""
    done = {"recorded": 0, "unknown": 0, "failed": 0}
    for channel_id in channels_to_record():
        try:
            row = record_channel(channel_id)
        except Exception:  # noqa: BLE001 - whatever one network does, the next channel is still asked
            logger.exception("follower count of channel %s failed", channel_id)
            done["failed"] += 1
            continue
        done["recorded" if row is not None else "unknown"] += 1
    return done


def growth(workspace: Workspace, days: int = 30, today: date | None = None) -> dict:
    """Per channel, its readings over the `days` days ending `today` (inclusive) and the change from the
    first to the last of them; the totals add up the channels measured in the period.

    {"start", "end", "channels": [{"channel_id", "name", "kind", "points": [(date, followers)], "first",
    "last", "change", "change_share"}], "total": {"first", "last", "change", "change_share"}}
    """
    days = max(1, min(int(days), MAX_DAYS))
    end = today or local_today(workspace)
    start = end - timedelta(days=days - 1)
    channels = list(
        Channel.objects.filter(workspace=workspace).order_by("name").values_list("pk", "name", "kind")
    )
    points: dict[int, list[tuple[date, int]]] = {pk: [] for pk, _name, _kind in channels}
    readings = (
        FollowerCount.objects.filter(channel__workspace=workspace, date__gte=start, date__lte=end)
        .order_by("channel_id", "date")
        .values_list("channel_id", "date", "followers")
    )
    for channel_id, day, followers in readings:
        points[channel_id].append((day, followers))
    rows = [
        {"channel_id": pk, "name": name, "kind": kind, "points": points[pk], **_change(points[pk])}
        for pk, name, kind in channels
        if points[pk]
    ]
    first = sum(row["first"] for row in rows)
    last = sum(row["last"] for row in rows)
    total = {
        "first": first,
        "last": last,
        "change": last - first,
        "change_share": _share(last - first, first),
    }
    return {"start": start, "end": end, "channels": rows, "total": total}


def load_demo(workspace: Workspace, days: int = 60) -> None:
    """The demo's follower history: `days` daily readings per fake channel, growing a little most days
    (the same numbers every run), and the fake network's counter at the last of them, so the daily task
    carries the line on. Readings already there are kept."""
    from smmdesk.channels.fake.adapter import FakeNetwork

    today = local_today(workspace)
    for channel in Channel.objects.filter(workspace=workspace, kind="fake").order_by("pk"):
        # From the channel's id, not randomness: a start between 300 and 1,500, then up to 6 new
        # followers a day and one lost now and then.
        count = 300 + (channel.pk * 397) % 1200
        rows = []
        for n in range(days):
            count += (channel.pk + n * 5) % 7 - (1 if n % 9 == 4 else 0)
            rows.append(
                FollowerCount(channel=channel, date=today - timedelta(days=days - 1 - n), followers=count)
            )
        FollowerCount.objects.bulk_create(rows, ignore_conflicts=True)
        FakeNetwork.account(channel.typed_config().account_id).followers = count


def _change(series: list[tuple[date, int]]) -> dict:
    first, last = series[0][1], series[-1][1]
    return {"first": first, "last": last, "change": last - first, "change_share": _share(last - first, first)}


def _share(change: int, base: int) -> float | None:
    """The change as a fraction of where it started (0.05 = +5 %); None from zero."""
    return round(change / base, 4) if base else None
