"""Time: the workspace's wall clock, recurring posts, and getting due variants to a worker.

Times are stored in UTC and meant in the business's time zone (its profile's). A recurring post repeats
at the same local wall-clock time, so a weekly 10:00 offer stays at 10:00 across a DST change; a local
time that does not exist (the spring-forward gap) moves forward by the gap, an ambiguous one (the
autumn repeat) takes its first instance. Occurrences count from the series' first post, so a monthly
post on the 31st falls on the last day of shorter months and is back on the 31st after them.

Delivery: each due variant gets a Huey task with an ETA (enqueue). A task can vanish (a worker killed
with it in hand, a queue flushed), so the sweeper runs every minute and queues whatever is due and still
pending, takes back claims of dead workers, and releases held variants once their channel works again.
A task that arrives twice, or late, or for a time that has since moved, does nothing: the claim in
publisher.claim decides.
"""

from __future__ import annotations

import calendar
import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils import timezone

from smmdesk.channels.models import Channel
from smmdesk.lib.workers import dead_here
from smmdesk.publishing.models import Post, Variant

logger = logging.getLogger(__name__)

VState = Variant.State
# Posts whose pending variants may be published (a draft or a post back in review never is).
LIVE = (Post.State.SCHEDULED, Post.State.PUBLISHING)
# How long past due a pending variant waits for its own ETA task before the sweeper queues it again:
# long enough that a busy queue working through a burst is not handed every task twice.
SWEEP_GRACE = timedelta(seconds=60)
# A claim this old belongs to a worker that died (or hangs) on another machine: longer than any network
# call with lib.http's retries takes.
CLAIM_STALE = timedelta(minutes=10)
SWEEP_BATCH = 5000


# --- the wall clock -----------------------------------------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def workspace_zone(workspace) -> ZoneInfo:
    profile = getattr(workspace, "profile", None)
    return zone(getattr(profile, "timezone", None))


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall-clock time in `tz` as an aware UTC time. fold=0 gives a time in the spring gap
    the offset before the change (so it lands the gap's length later) and an autumn repeat its first
    instance."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def to_local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def occurrence(anchor: datetime, recurrence: str, k: int, tz: ZoneInfo) -> datetime:
    """The k-th repeat (k=0 is the anchor itself) at the anchor's local wall-clock time, in UTC."""
    local = anchor.astimezone(tz)
    if recurrence == Post.Recurrence.DAILY:
        day = local.date() + timedelta(days=k)
    elif recurrence == Post.Recurrence.WEEKLY:
        day = local.date() + timedelta(weeks=k)
    elif recurrence == Post.Recurrence.MONTHLY:
        day = _add_months(local.date(), k)
    else:
        raise ValueError(f"recurrence: unknown {recurrence!r}")
    return to_utc(datetime.combine(day, local.time().replace(tzinfo=None)), tz)


def next_occurrence(
    anchor: datetime, after: datetime, recurrence: str, tz: ZoneInfo, until: date | None = None
) -> datetime | None:
    """The first repeat of the series anchored at `anchor` later than `after`; None past `until` (a local
    date, inclusive)."""
    if not recurrence:
        return None
    first, last = anchor.astimezone(tz), after.astimezone(tz)
    days = (last.date() - first.date()).days
    if recurrence == Post.Recurrence.DAILY:
        k = days
    elif recurrence == Post.Recurrence.WEEKLY:
        k = days // 7
    else:
        k = (last.year - first.year) * 12 + last.month - first.month
    # Start at or just before `after` and step: a DST shift can put the k-th repeat on either side.
    k = max(1, k - 1)
    candidate = occurrence(anchor, recurrence, k, tz)
    while candidate <= after:
        k += 1
        candidate = occurrence(anchor, recurrence, k, tz)
    if until is not None and candidate.astimezone(tz).date() > until:
        return None
    return candidate


# --- getting variants to a worker ---------------------------------------------------------------------


def enqueue(variant_ids: list[int], eta: datetime | None) -> None:
    """After commit, a publish task per variant at `eta` (now if it has passed)."""
    ids = list(variant_ids)
    if not ids:
        return

    def send():
        from smmdesk.publishing.tasks import publish_variant_task

        due = eta is None or eta <= timezone.now()
        for variant_id in ids:
            if due:
                publish_variant_task(variant_id)
            else:
                publish_variant_task.schedule((variant_id,), eta=eta)

    transaction.on_commit(send, robust=True)


def reclaim_abandoned(now: datetime) -> list[int]:
    """Claims left by dead workers go back to pending (the ledger settles what the dead one may have
    posted). Returns the variant ids to queue."""
    freed = []
    rows = Variant.objects.filter(state=VState.PUBLISHING).values_list("pk", "claimed_by", "claimed_at")
    for pk, claimed_by, claimed_at in rows[:SWEEP_BATCH]:
        if not (claimed_at is None or claimed_at < now - CLAIM_STALE or dead_here(claimed_by)):
            continue
        changed = Variant.objects.filter(
            pk=pk, state=VState.PUBLISHING, claimed_by=claimed_by, claimed_at=claimed_at
        ).update(state=VState.PENDING, next_attempt_at=now, claimed_by="")
        if changed:
            logger.warning("variant %s: claim of %s abandoned, publishing it again", pk, claimed_by or "?")
            freed.append(pk)
    return freed


def release_held(now: datetime) -> list[int]:
    """Held variants whose channel works again go back to pending, due now."""
    from smmdesk.publishing import workflow

    held = Variant.objects.filter(state=VState.HELD, post__state__in=LIVE, channel__status=Channel.Status.OK)
    released = []
    for pk, post_id in held.values_list("pk", "post_id")[:SWEEP_BATCH]:
        with transaction.atomic():
            if Variant.objects.filter(pk=pk, state=VState.HELD).update(
                state=VState.PENDING, next_attempt_at=now, error=""
            ):
                post = Post.objects.get(pk=post_id)
                workflow.record(post, "retried", None, variant=pk, reason="channel reconnected")
                released.append(pk)
    return released


def due_pending(now: datetime) -> list[int]:
    """Pending variants whose ETA task should long have run."""
    rows = Variant.objects.filter(
        state=VState.PENDING, next_attempt_at__lte=now - SWEEP_GRACE, post__state__in=LIVE
    ).order_by("next_attempt_at")
    return list(rows.values_list("pk", flat=True)[:SWEEP_BATCH])


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Queue what is due and not in flight. Idempotent: queuing a variant twice publishes it once."""
    now = now or timezone.now()
    freed = reclaim_abandoned(now)
    released = release_held(now)
    late = due_pending(now)
    queue = list(dict.fromkeys(freed + released + late))
    enqueue(queue, None)
    if queue:
        logger.info("publishing sweep: %s freed, %s released, %s late", len(freed), len(released), len(late))
    return {"freed": len(freed), "released": len(released), "late": len(late)}
