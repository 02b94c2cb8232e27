"""Reading the inbox: the filtered list sorted by SLA urgency, in keyset pages, with each row's SLA state
and a version token for live updates. (One conversation's page reads through timeline.py.)

Urgency order is "nearest deadline first, conversations without a deadline after them, most recently
active first". It is read as two index-friendly queries (rows with a deadline by due_at, then rows
without one by updated_at) instead of one ORDER BY ... NULLS LAST, which no index can serve, so the first
page stays cheap however many conversations the workspace has.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from smmdesk.accounts.models import Membership, Workspace
from smmdesk.inbox.models import (
    ACTIVE_STATUSES,
    Conversation,
    Status,
)

PAGE_SIZE = 50
CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED)
RISKS = ("ok", "warning", "breached")
SORTS = ("urgency", "recent")


@dataclass(frozen=True)
class Filters:
    """What the person asked to see; "" means "any". Built from the filter form (forms.FilterForm)."""

    status: str = "active"  # "active" (not resolved or closed), "all", or one Status value
    channel: int | None = None
    department: str = ""  # "", "mine" (the member's departments), "none", or a department id
    sentiment: str = ""
    risk: str = ""  # "", "ok", "warning", "breached"
    assignee: str = ""  # "", "me", "none", or a membership id
    language: str = ""
    q: str = ""
    sort: str = "urgency"


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after (at, pk) in phase "d" (by deadline), "n" (no deadline, by
    activity) or "r" (the "recent" sort)."""

    phase: str
    at: datetime
    pk: int

    def encode(self) -> str:
        return f"{self.phase}_{self.at.isoformat()}_{self.pk}"

    @classmethod
    def decode(cls, value: str) -> Cursor:
        phase, _, rest = value.partition("_")
        at_text, _, pk_text = rest.rpartition("_")
        at = parse_datetime(at_text) if at_text else None
        if phase not in ("d", "n", "r") or at is None or not pk_text.isdigit():
            raise ValueError(f"not a page cursor: {value!r}")
        if timezone.is_naive(at):
            at = at.replace(tzinfo=UTC)
        return cls(phase, at, int(pk_text))


@dataclass
class Page:
    rows: list[Conversation]
    next_cursor: Cursor | None = None
    version: str = ""
    sla: dict[int, SlaBadge] = field(default_factory=dict)


@dataclass(frozen=True)
class SlaBadge:
    state: str  # "none", "paused", "ok", "warning", "breached"
    deadline: datetime | None = None


def sla_engine():
    # The SLA engine (inbox/sla.py) decides states; the fallbacks below only read the stored columns, for
    # an engine that does not offer a function (and for unit tests of this module's own logic).
    from smmdesk.inbox import sla

    return sla


def _badge(conversation: Conversation, state, now: datetime) -> SlaBadge:
    if state:
        return SlaBadge(state=str(state), deadline=conversation.due_at)
    if conversation.sla_paused_at is not None and conversation.status not in CLOSED_STATUSES:
        return SlaBadge("paused", conversation.due_at)
    return SlaBadge("none")


def sla_badge(conversation: Conversation, now: datetime) -> SlaBadge:
    """The conversation's SLA state for a badge: ok, warning (80 % used), breached, paused or none."""
    deadline_state = getattr(sla_engine(), "deadline_state", None)
    if deadline_state is None:
        return _fallback_badge(conversation, now)
    return _badge(conversation, deadline_state(conversation, now), now)


def sla_badges(conversations: list[Conversation], now: datetime) -> dict[int, SlaBadge]:
    """sla_badge for a page of rows, reading the business hours once."""
    deadline_states = getattr(sla_engine(), "deadline_states", None)
    if deadline_states is None:
        return {c.pk: sla_badge(c, now) for c in conversations}
    states = deadline_states(conversations, now)
    return {c.pk: _badge(c, states.get(c.pk), now) for c in conversations}


def _fallback_badge(conversation: Conversation, now: datetime) -> SlaBadge:
    if conversation.status in CLOSED_STATUSES:
        return SlaBadge("none")
    if conversation.sla_paused_at is not None:
        return SlaBadge("paused", conversation.due_at)
    due = conversation.due_at
    if due is None:
        return SlaBadge("none")
    if due <= now:
        return SlaBadge("breached", due)
    if conversation.sla_warned_at is not None:
        return SlaBadge("warning", due)
    return SlaBadge("ok", due)


def risk_q(risk: str, now: datetime) -> Q:
    """The SLA risk filter as a condition on indexed columns: the engine's definition when it has one."""
    engine_q = getattr(sla_engine(), "risk_q", None)
    if engine_q is not None:
        return engine_q(risk, now)
    running = Q(status__in=ACTIVE_STATUSES, sla_paused_at__isnull=True, due_at__isnull=False)
    if risk == "breached":
        return running & Q(due_at__lte=now)
    if risk == "warning":
        return running & Q(due_at__gt=now, sla_warned_at__isnull=False)
    if risk == "ok":
        return running & Q(due_at__gt=now, sla_warned_at__isnull=True)
    raise ValueError(f"unknown SLA risk {risk!r}")


def filtered(
    workspace: Workspace, membership: Membership, filters: Filters, now: datetime | None = None
) -> QuerySet[Conversation]:
    """The workspace's conversations that match every filter that is set (unsorted)."""
    now = now or timezone.now()
    rows = Conversation.objects.filter(workspace=workspace)
    if filters.status == "active":
        rows = rows.exclude(status__in=CLOSED_STATUSES)
    elif filters.status != "all":
        rows = rows.filter(status=filters.status)
    if filters.channel is not None:
        rows = rows.filter(channel_id=filters.channel)
    if filters.department == "mine":
        rows = rows.filter(department__in=membership.departments.all())
    elif filters.department == "none":
        rows = rows.filter(department__isnull=True)
    elif filters.department:
        rows = rows.filter(department_id=int(filters.department))
    if filters.sentiment:
        rows = rows.filter(sentiment=filters.sentiment)
    if filters.risk:
        rows = rows.filter(risk_q(filters.risk, now))
    if filters.assignee == "me":
        rows = rows.filter(assignee=membership)
    elif filters.assignee == "none":
        rows = rows.filter(assignee__isnull=True)
    elif filters.assignee:
        rows = rows.filter(assignee_id=int(filters.assignee))
    if filters.language:
        rows = rows.filter(language=filters.language)
    if filters.q:
        rows = rows.filter(Q(subject__icontains=filters.q) | Q(customer__name__icontains=filters.q))
    return rows


def _with_related(rows: QuerySet[Conversation]) -> QuerySet[Conversation]:
    return rows.select_related("channel", "customer", "department", "assignee__user", "sla_policy")


def page(
    workspace: Workspace,
    membership: Membership,
    filters: Filters,
    after: Cursor | None = None,
    *,
    now: datetime | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the list, `size` rows after `after`, with the cursor of the next page if any."""
    now = now or timezone.now()
    base = filtered(workspace, membership, filters, now)
    if filters.sort == "recent":
        ids = _recent(base, after, size + 1, phase="r")
    else:
        ids = []
        if after is None or after.phase == "d":
            due = base.filter(due_at__isnull=False).order_by("due_at", "pk")
            if after is not None:
                due = due.filter(Q(due_at__gt=after.at) | Q(due_at=after.at, pk__gt=after.pk))
            ids = list(due.values_list("pk", flat=True)[: size + 1])
            after = None
        if len(ids) <= size:
            ids += _recent(base.filter(due_at__isnull=True), after, size + 1 - len(ids), phase="n")
    rows = _load(ids)
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        if filters.sort == "recent":
            next_cursor = Cursor("r", last.updated_at, last.pk)
        elif last.due_at is not None:
            next_cursor = Cursor("d", last.due_at, last.pk)
        else:
            next_cursor = Cursor("n", last.updated_at, last.pk)
    badges = sla_badges(rows, now)
    result = Page(rows=rows, next_cursor=next_cursor, sla=badges)
    result.version = list_version(result)
    return result


def _recent(base: QuerySet, after: Cursor | None, limit: int, phase: str) -> list[int]:
    rows = base.order_by("-updated_at", "-pk")
    if after is not None and after.phase == phase:
        rows = rows.filter(Q(updated_at__lt=after.at) | Q(updated_at=after.at, pk__lt=after.pk))
    return list(rows.values_list("pk", flat=True)[:limit]) if limit > 0 else []


def _load(ids: list[int]) -> list[Conversation]:
    """The rows, with what the list shows of them, in the order of `ids`.

    Choosing a page and reading it are two queries: the choosing one has no joins, so it reads a page off an
    index and stops (a tenth of a millisecond on PostgreSQL), where one query doing both joined every
    matching conversation to five tables before sorting them to keep 50, and spent longer planning those
    joins than either query now takes. A row deleted in between is left out."""
    found = {c.pk: c for c in _with_related(Conversation.objects.filter(pk__in=ids))}
    return [found[pk] for pk in ids if pk in found]


def digest(parts) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=10).hexdigest()


def list_version(result: Page) -> str:
    """Changes whenever anything the page shows changes (rows, their fields, SLA states, paging), so the
    live-update poll can answer "nothing new" without rendering."""
    return digest(
        [
            (
                c.pk,
                c.status,
                c.priority,
                c.assignee_id,
                c.department_id,
                c.channel_id,
                c.customer.name if c.customer else None,
                c.subject,
                c.language,
                c.sentiment,
                c.updated_at,
                c.due_at,
                c.tags,
                result.sla[c.pk],
            )
            for c in result.rows
        ]
        + [result.next_cursor]
    )
