"""Reading one conversation: its timeline (messages and steps merged in time order, each step described
in the reader's language), the customer's accounts and other conversations, the hand-offs, what the
channel allows, and a version token for the page's live part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from smmdesk.channels.base import Capability, PostLimits
from smmdesk.inbox.models import (
    Conversation,
    CustomerIdentity,
    HandOff,
    Message,
    Priority,
    Status,
    TimelineEvent,
)
from smmdesk.inbox.queries import digest, sla_engine


@dataclass
class TimelineItem:
    at: datetime
    message: Message | None = None
    event: TimelineEvent | None = None

    @property
    def key(self) -> str:
        return f"m{self.message.pk}" if self.message else f"e{self.event.pk}"


def timeline(conversation: Conversation) -> list[TimelineItem]:
    """Messages (in, out, notes) and steps (status, assignment, hand-off, SLA...) in time order."""
    messages = conversation.messages.select_related("author__user")
    events = conversation.timeline.select_related("actor__user")
    items = [TimelineItem(at=m.received_at, message=m) for m in messages]
    items += [TimelineItem(at=e.created_at, event=e) for e in events]
    # At the same instant a step (the conversation starting) comes before the message it belongs to.
    items.sort(key=lambda i: (i.at, 0 if i.event else 1, i.message.pk if i.message else i.event.pk))
    return items


def identities(conversation: Conversation) -> list[dict]:
    """The customer's accounts on every channel, with profile links only when they are web addresses."""
    if conversation.customer_id is None:
        return []
    rows = CustomerIdentity.objects.filter(customer_id=conversation.customer_id).select_related("channel")
    return [
        {
            "channel": identity.channel,
            "handle": identity.handle or identity.network_id,
            "link": safe_link(identity.profile_url),
            "current": identity.channel_id == conversation.channel_id,
        }
        for identity in rows
    ]


def safe_link(url: str) -> str:
    """A customer-supplied address we may put in href: http(s) only, so no javascript: or data: links."""
    url = (url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) and " " not in url else ""


def history(conversation: Conversation, limit: int = 20) -> list[Conversation]:
    """The same customer's other conversations, on any channel, newest first."""
    if conversation.customer_id is None:
        return []
    rows = (
        Conversation.objects.filter(
            workspace_id=conversation.workspace_id, customer_id=conversation.customer_id
        )
        .exclude(pk=conversation.pk)
        .select_related("channel")
        .order_by("-updated_at", "-pk")
    )
    return list(rows[:limit])


def handoffs(conversation: Conversation) -> list[HandOff]:
    return list(
        conversation.handoffs.select_related("department", "created_by__user").order_by("created_at", "pk")
    )


def channel_limits(conversation: Conversation) -> PostLimits | None:
    channel = conversation.channel
    return channel.adapter_class.limits if channel.known_kind else None


def can_reply_on(conversation: Conversation) -> bool:
    channel = conversation.channel
    return (
        channel.is_enabled and channel.known_kind and Capability.REPLY in channel.adapter_class.capabilities
    )


def can_moderate_on(conversation: Conversation) -> bool:
    """Hiding or deleting is for comments, on networks whose adapter can do it."""
    channel = conversation.channel
    return (
        conversation.kind == "comment"
        and channel.known_kind
        and Capability.MODERATE in channel.adapter_class.capabilities
    )


def live_version(conversation: Conversation, items: list[TimelineItem], answers: list[HandOff], badge) -> str:
    """Changes whenever the live part of the conversation page would change."""
    return digest(
        [
            (
                conversation.status,
                conversation.priority,
                conversation.assignee_id,
                conversation.department_id,
                conversation.language,
                conversation.sentiment,
                conversation.updated_at,
                badge,
            ),
            [
                (i.key, i.message.delivery, i.message.delivery_error, i.message.attempts, i.message.flags)
                if i.message
                else i.key
                for i in items
            ],
            [(h.pk, h.answer, h.answered_at) for h in answers],
        ]
    )


PRIORITY_LABELS = {str(value): label for value, label in Priority.choices}
VALUE_LABELS = {
    "status": dict(Status.choices),
    "priority": PRIORITY_LABELS,
    "action": {"hide": _("hidden"), "delete": _("deleted")},
    "router": {"learned": _("learned router"), "round_robin": _("round robin")},
}
KEY_LABELS = {
    "rule": _("rule"),
    "department": _("department"),
    "priority": _("priority"),
    "assignee": _("assignee"),
    "tags": _("tags"),
    "deadline": _("deadline"),
    "due": _("due"),
    "opens_at": _("opens"),
    "router": _("routing"),
    "email": _("by e-mail"),
    "action": _("action"),
}
# Said as they are, without a "key:" in front.
FREE_TEXT = ("note", "text", "reason")
# Steps whose name already says a department is meant: "Handed to a department: Quality; …".
PLAIN_DEPARTMENT = (TimelineEvent.Kind.HANDOFF, TimelineEvent.Kind.DEPARTMENT_REPLY)
DATETIMES = ("due", "opens_at")


def describe_event(event: TimelineEvent, members: dict[int, str], departments: dict[int, str]) -> str:
    """A short line for a step's details, in the reader's language and the active time zone (the template
    escapes it): "Open → Resolved", "department: Quality; please check the booking"."""
    detail = event.detail if isinstance(event.detail, dict) else {}
    if "old" in detail or "new" in detail:
        return (
            f"{_change_side(event, detail, 'old', members)} → {_change_side(event, detail, 'new', members)}"
        )
    parts = []
    for key, value in detail.items():
        if key not in FREE_TEXT and key not in KEY_LABELS or value in (None, "", []):
            continue
        if key == "department" and isinstance(value, int):
            value = detail.get("department_name") or departments.get(value, f"#{value}")
        shown = _value(key, value)
        said_plainly = key in FREE_TEXT or (key == "department" and event.kind in PLAIN_DEPARTMENT)
        parts.append(shown if said_plainly else f"{KEY_LABELS[key]}: {shown}")
    return "; ".join(parts)


def _change_side(event: TimelineEvent, detail: dict, side: str, members: dict[int, str]) -> str:
    value = detail.get(side)
    if event.kind == TimelineEvent.Kind.ASSIGNED:
        name = detail.get(f"{side}_name") or (members.get(value) if isinstance(value, int) else None)
        return str(name or "—")
    key = "priority" if event.kind == TimelineEvent.Kind.PRIORITY else "status"
    return _value(key, value) if value not in (None, "") else "—"


def _value(key: str, value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if key in DATETIMES and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            # The same form as every other time on the page.
            return formats.date_format(timezone.localtime(moment), "d.m.Y H:i")
    if key == "deadline":
        return str(_deadline_label(str(value)))
    return str(VALUE_LABELS.get(key, {}).get(str(value), value))


def _deadline_label(kind: str):
    deadlines = getattr(sla_engine(), "DEADLINES", {})
    entry = deadlines.get(kind)
    return entry[-1] if entry else kind
