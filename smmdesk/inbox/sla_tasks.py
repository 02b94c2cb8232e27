"""SLA background work: the minute-by-minute scan for near and missed deadlines, and the delivery of
notices by e-mail and Telegram. The claims that make both safe to run twice live in sla and notify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Q
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from smmdesk.business.hours import next_open
from smmdesk.inbox import notify, sla
from smmdesk.inbox.models import ACTIVE_STATUSES, Conversation, SlaPolicy


@db_periodic_task(crontab(minute="*"))
def scan_sla() -> None:
    scan(timezone.now())


@db_task()
def deliver_notifications_task(
    notification_ids: list[int], email: bool, telegram_chat_id: str = "", telegram_text: str = ""
) -> None:
    notify.deliver(
        notification_ids, email=email, telegram_chat_id=telegram_chat_id, telegram_text=telegram_text
    )


def scan(now: datetime) -> tuple[int, int]:
    """Warn about deadlines 80 % used and escalate missed ones; returns (warned, breached).

    Missed deadlines are one indexed query. A deadline in its last fifth is due before a horizon per
    workspace (a fifth of the workspace's longest deadline, in open time, from now), so one query
    fetches the warning candidates and exact business-time arithmetic runs on those few only."""
    running = Conversation.objects.filter(
        status__in=ACTIVE_STATUSES, sla_paused_at__isnull=True, due_at__isnull=False
    ).select_related("sla_policy")
    missed = list(running.filter(due_at__lte=now, sla_breached_at__isnull=True))
    breached = sum(sla.breach(conversation, now) for conversation in missed)
    pending = running.filter(due_at__gt=now, sla_warned_at__isnull=True, sla_breached_at__isnull=True)
    workspace_ids = set(pending.order_by().values_list("workspace_id", flat=True).distinct())
    if not workspace_ids:
        return 0, breached
    longest = dict.fromkeys(workspace_ids, max(_minutes(sla.default_policy())))
    for policy in SlaPolicy.objects.filter(workspace_id__in=workspace_ids):
        longest[policy.workspace_id] = max(longest[policy.workspace_id], *_minutes(policy))
    clocks = {workspace_id: sla.Clock(workspace_id) for workspace_id in workspace_ids}
    horizons = [
        Q(workspace_id=workspace_id, due_at__lte=_horizon(clocks[workspace_id], now, minutes))
        for workspace_id, minutes in longest.items()
    ]
    warned = 0
    for conversation in list(pending.filter(reduce(or_, horizons))):
        policy = sla.policy_in_force(conversation)
        clock = sla.Clock.of(conversation, policy, clocks[conversation.workspace_id].schedule)
        if sla.in_last_fifth(conversation, now, clock, policy):
            warned += sla.warn(conversation, now, clock=clock)
    return warned, breached


def _minutes(policy: SlaPolicy) -> tuple[int, ...]:
    return tuple(getattr(policy, minutes) for _field, minutes, _label in sla.DEADLINES.values())


def _horizon(clock: sla.Clock, now: datetime, minutes: int) -> datetime:
    # A deadline in the closed stretch right after the horizon has as much open time left as one at the
    # horizon, so the horizon reaches to the next opening.
    fifth = minutes / sla.WARN_DIVISOR
    reach = clock.add(now, fifth)
    try:
        reach = next_open(clock.schedule, reach).astimezone(UTC)
    except ValueError:
        pass
    return max(reach, now + timedelta(minutes=fifth))
