"""The inbox over the HTTP API: conversations with their messages and timeline, replies, notes, status,
assignment, hand-offs and the department's answer, and the reports.

The role checks are the inbox pages' ("inbox.view" to read, "inbox.reply" to act, "inbox.manage" for
reports); refusals from the use cases are 422 with the field named, in the same words as on the pages.
"""

import datetime as dt

from django import forms
from django.db.models import F
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from smmdesk.accounts.models import Membership
from smmdesk.api import InvalidOut, requires
from smmdesk.inbox import actions, queries, reports
from smmdesk.inbox.models import Conversation, HandOff, Message, Sentiment
from smmdesk.inbox.models import Status as ConversationStatus

router = Router(tags=["inbox"])
_REQUIRED = forms.Field.default_error_messages["required"]  # lazy: translated when sent

MAX_LIMIT = 100
# The use cases name their inputs as the pages do; the API's bodies call some of them by their id.
FIELD_NAMES = {"assignee": "membership_id", "department": "department_id"}


# --- schemas -------------------------------------------------------------------------------------------


class CustomerOut(Schema):
    id: int
    name: str


class ConversationOut(Schema):
    id: int
    channel_id: int
    channel: str
    kind: str
    subject: str
    status: str
    priority: int
    department_id: int | None
    department: str | None
    assignee_id: int | None
    assignee: str | None
    customer: CustomerOut | None
    language: str
    sentiment: str
    tags: list
    due_at: dt.datetime | None
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    last_inbound_at: dt.datetime | None
    last_outbound_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ConversationPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ConversationOut]


class MessageOut(Schema):
    id: int
    direction: str
    author_name: str
    author_id: int | None = Field(description="The member who wrote a reply or note; null for customers.")
    text: str
    attachments: list
    external_id: str
    sent_at: dt.datetime | None
    received_at: dt.datetime
    language: str
    sentiment: str
    flags: list
    delivery: str
    delivery_error: str


class TimelineEventOut(Schema):
    id: int
    kind: str
    actor_id: int | None
    detail: dict
    created_at: dt.datetime


class HandOffOut(Schema):
    id: int
    conversation_id: int
    department_id: int
    department: str
    note: str
    created_by_id: int | None
    created_at: dt.datetime
    answer: str
    answered_by: str
    answered_at: dt.datetime | None


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]
    timeline: list[TimelineEventOut]
    handoffs: list[HandOffOut]


# Body fields are optional in the schema so an id from another workspace is 404 whatever the body says;
# a missing field is then refused by the use case, naming it.


class TextIn(Schema):
    text: str | None = None


class StatusIn(Schema):
    status: str | None = None


class AssignIn(Schema):
    membership_id: int | None = Field(None, description="A member of the workspace, or null to unassign.")


class HandOffIn(Schema):
    department_id: int | None = None
    note: str = ""


class ListFilters(Schema):
    status: str = Field(
        "active", description='"active" (not resolved or closed), "all", or one status (new, open, ...).'
    )
    channel: int | None = Field(None, ge=1, le=2**62)
    department: str = Field("", description='A department id, "none", or "mine" (your departments).')
    assignee: str = Field("", description='A membership id, "none", or "me".')
    sentiment: str = ""
    language: str = ""
    risk: str = Field("", description='SLA risk: "ok", "warning" or "breached".')
    q: str = Field("", max_length=200, description="Words in the subject or the customer's name.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=1_000_000)


class InboxPeriodIn(Schema):
    start: dt.date | None = Field(None, description="First day (in the business's time zone).")
    end: dt.date | None = Field(None, description="Last day, included; default today.")


class SpreadOut(Schema):
    count: int
    median: float | None
    p90: float | None


class SlaOut(Schema):
    measured: int
    breached: int
    compliance: float | None


class DepartmentFigures(Schema):
    id: int | None
    name: str
    conversations: int
    messages: int
    resolved: int
    first_response: SpreadOut
    resolution: SpreadOut
    sla: SlaOut


class VolumeOut(Schema):
    name: str
    conversations: int
    messages: int


class ChannelVolume(VolumeOut):
    id: int


class SentimentVolume(VolumeOut):
    key: str


class AgentFigures(Schema):
    id: int
    name: str
    role: str
    assigned: int
    resolved: int
    replies: int
    first_response: SpreadOut
    sla: SlaOut


class InboxReportOut(Schema):
    """Conversations count in the period they started in. Times are wall-clock minutes from the customer's
    first message to the first reply or to resolution (nights included); `sla.compliance` is the
    percentage of conversations that missed none of their deadlines."""

    start: dt.datetime
    end: dt.datetime
    conversations: int
    resolved: int
    messages_in: int
    replies: int
    first_response: SpreadOut
    resolution: SpreadOut
    sla: SlaOut
    departments: list[DepartmentFigures]
    channels: list[ChannelVolume]
    sentiments: list[SentimentVolume]
    agents: list[AgentFigures]


# --- helpers -------------------------------------------------------------------------------------------


def _invalid(*errors: tuple[str, str]):
    return Status(
        422,
        {
            "detail": "invalid input",
            "errors": [{"field": field, "message": str(msg)} for field, msg in errors],
        },
    )


def _refused(error: actions.InboxError):
    field = FIELD_NAMES.get(error.field or "", error.field) or "body"
    return _invalid((field, error.message))


def _conversation(request, conversation_id: int) -> Conversation:
    return get_object_or_404(
        Conversation.objects.select_related("channel", "department", "assignee__user", "customer"),
        workspace=request.workspace,
        pk=conversation_id,
    )


def _name(membership: Membership | None) -> str | None:
    return None if membership is None else str(membership.user)


# Fields copied as they are; the JSON lists are checked, so a stray value can never fail the response.
CONVERSATION_FIELDS = (
    *("channel_id", "kind", "subject", "status", "priority", "department_id", "assignee_id"),
    *("language", "sentiment", "due_at", "first_response_at", "resolved_at", "last_inbound_at"),
    *("last_outbound_at", "created_at", "updated_at"),
)
MESSAGE_FIELDS = (
    *("direction", "author_name", "author_id", "text", "external_id", "sent_at", "received_at"),
    *("language", "sentiment", "delivery", "delivery_error"),
)


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _conversation_out(conversation: Conversation) -> dict:
    customer = conversation.customer
    return {
        "id": conversation.pk,
        **{name: getattr(conversation, name) for name in CONVERSATION_FIELDS},
        "channel": conversation.channel.name,
        "department": conversation.department.name if conversation.department else None,
        "assignee": _name(conversation.assignee),
        "customer": {"id": customer.pk, "name": customer.name} if customer else None,
        "tags": _list(conversation.tags),
    }


def _message_out(message: Message) -> dict:
    return {
        "id": message.pk,
        **{name: getattr(message, name) for name in MESSAGE_FIELDS},
        "attachments": _list(message.attachments),
        "flags": _list(message.flags),
    }


def _handoff_out(handoff: HandOff) -> dict:
    # The reply token lets an e-mail answer the hand-off; it never leaves the server.
    return {
        "id": handoff.pk,
        "conversation_id": handoff.conversation_id,
        "department_id": handoff.department_id,
        "department": handoff.department.name,
        "note": handoff.note,
        "created_by_id": handoff.created_by_id,
        "created_at": handoff.created_at,
        "answer": handoff.answer,
        "answered_by": handoff.answered_by,
        "answered_at": handoff.answered_at,
    }


def _list_errors(filters: ListFilters) -> list[tuple[str, str]]:
    errors = []
    if filters.status not in ("active", "all", *ConversationStatus.values):
        errors.append(("status", f"one of: active, all, {', '.join(ConversationStatus.values)}"))
    if filters.department not in ("", "mine", "none") and not filters.department.isdigit():
        errors.append(("department", 'a department id, "none" or "mine"'))
    if filters.assignee not in ("", "me", "none") and not filters.assignee.isdigit():
        errors.append(("assignee", 'a membership id, "none" or "me"'))
    if filters.sentiment and filters.sentiment not in Sentiment.values:
        errors.append(("sentiment", f"one of: {', '.join(Sentiment.values)}"))
    if filters.risk and filters.risk not in queries.RISKS:
        errors.append(("risk", f"one of: {', '.join(queries.RISKS)}"))
    if len(filters.language) > 8:
        errors.append(("language", "a language code such as ru, en or sk"))
    # Ids beyond the database's integers would match nothing anyway.
    for name in ("department", "assignee"):
        value = getattr(filters, name)
        if value.isdigit() and int(value) > 2**62:
            errors.append((name, "no such id"))
    return errors


# --- conversations ---------------------------------------------------------------------------------------


@router.get("/w/{slug}/conversations", response={200: ConversationPage, 422: InvalidOut})
@requires("inbox.view")
def list_conversations(request, slug: str, filters: Query[ListFilters]):
    """The inbox list with the page's filters, nearest SLA deadline first, then most recently active."""
    errors = _list_errors(filters)
    if errors:
        return _invalid(*errors)
    wanted = queries.Filters(
        status=filters.status,
        channel=filters.channel,
        department=filters.department,
        sentiment=filters.sentiment,
        risk=filters.risk,
        assignee=filters.assignee,
        language=filters.language,
        q=filters.q.strip(),
    )
    rows = queries.filtered(request.workspace, request.membership, wanted, timezone.now())
    ordered = rows.select_related("channel", "department", "assignee__user", "customer").order_by(
        F("due_at").asc(nulls_last=True), "-updated_at", "-pk"
    )
    items = ordered[filters.offset : filters.offset + filters.limit]
    return {
        "count": rows.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_conversation_out(c) for c in items],
    }


@router.get("/w/{slug}/conversations/{conversation_id}", response=ConversationDetailOut)
@requires("inbox.view")
def get_conversation(request, slug: str, conversation_id: int):
    """One conversation with every message (internal notes included) and every step of its timeline."""
    conversation = _conversation(request, conversation_id)
    return {
        **_conversation_out(conversation),
        "messages": [_message_out(m) for m in conversation.messages.order_by("received_at", "pk")],
        "timeline": [
            {
                "id": e.pk,
                "kind": e.kind,
                "actor_id": e.actor_id,
                "detail": e.detail,
                "created_at": e.created_at,
            }
            for e in conversation.timeline.order_by("created_at", "pk")
        ],
        "handoffs": [
            _handoff_out(h)
            for h in conversation.handoffs.select_related("department").order_by("created_at", "pk")
        ],
    }


@router.post("/w/{slug}/conversations/{conversation_id}/replies", response={201: MessageOut, 422: InvalidOut})
@requires("inbox.reply")
def send_reply(request, slug: str, conversation_id: int, payload: TextIn):
    """Queue a public reply to the customer; `delivery` turns from "pending" to "sent" or "failed"."""
    conversation = _conversation(request, conversation_id)
    try:
        message = actions.reply(conversation, request.membership, payload.text)
    except actions.InboxError as error:
        return _refused(error)
    return Status(201, _message_out(message))


@router.post("/w/{slug}/conversations/{conversation_id}/notes", response={201: MessageOut, 422: InvalidOut})
@requires("inbox.reply")
def add_note(request, slug: str, conversation_id: int, payload: TextIn):
    """An internal note, never sent to the customer; @mentions notify members."""
    conversation = _conversation(request, conversation_id)
    try:
        message = actions.add_note(conversation, request.membership, payload.text)
    except actions.InboxError as error:
        return _refused(error)
    return Status(201, _message_out(message))


@router.post(
    "/w/{slug}/conversations/{conversation_id}/status", response={200: ConversationOut, 422: InvalidOut}
)
@requires("inbox.reply")
def set_status(request, slug: str, conversation_id: int, payload: StatusIn):
    conversation = _conversation(request, conversation_id)
    try:
        actions.set_status(conversation, payload.status, request.membership)
    except actions.InboxError as error:
        return _refused(error)
    return _conversation_out(_conversation(request, conversation_id))


@router.post(
    "/w/{slug}/conversations/{conversation_id}/assign", response={200: ConversationOut, 422: InvalidOut}
)
@requires("inbox.reply")
def assign(request, slug: str, conversation_id: int, payload: AssignIn):
    conversation = _conversation(request, conversation_id)
    if "membership_id" not in payload.model_fields_set:
        return _invalid(("membership_id", _REQUIRED))
    assignee = None
    if payload.membership_id is not None:
        assignee = (
            Membership.objects.filter(workspace=request.workspace, pk=payload.membership_id)
            .select_related("user")
            .first()
        )
        if assignee is None:
            return _invalid(("membership_id", "no member of this workspace has this id"))
    try:
        actions.assign(conversation, assignee, request.membership)
    except actions.InboxError as error:
        return _refused(error)
    return _conversation_out(_conversation(request, conversation_id))


@router.post(
    "/w/{slug}/conversations/{conversation_id}/handoffs", response={201: HandOffOut, 422: InvalidOut}
)
@requires("inbox.reply")
def hand_off(request, slug: str, conversation_id: int, payload: HandOffIn):
    """Hand the conversation to a department with a note; its members are notified."""
    conversation = _conversation(request, conversation_id)
    try:
        handoff = actions.hand_off(conversation, payload.department_id, payload.note, request.membership)
    except actions.InboxError as error:
        return _refused(error)
    return Status(201, _handoff_out(handoff))


@router.post("/w/{slug}/handoffs/{handoff_id}/answer", response={200: HandOffOut, 422: InvalidOut})
@requires("inbox.reply")
def answer_handoff(request, slug: str, handoff_id: int, payload: TextIn):
    """The department's answer to a hand-off; the first answer wins."""
    handoff = get_object_or_404(
        HandOff.objects.select_related("department", "conversation"),
        conversation__workspace=request.workspace,
        pk=handoff_id,
    )
    try:
        handoff = actions.department_answer(handoff, payload.text, by=request.membership)
    except actions.InboxError as error:
        return _refused(error)
    return _handoff_out(handoff)


# --- reports ---------------------------------------------------------------------------------------------


@router.get("/w/{slug}/reports", response={200: InboxReportOut, 422: InvalidOut})
@requires("inbox.manage")
def get_report(request, slug: str, period: Query[InboxPeriodIn]):
    """Figures for the conversations that started from `start` to `end` (default: the last 30 days)."""
    zone = reports.workspace_zone(request.workspace)
    today = timezone.localdate(timezone=zone)
    last = period.end or today
    first = period.start or last - dt.timedelta(days=29)
    if last < first:
        return _invalid(("end", "must not be before start"))
    if (last - first).days >= reports.MAX_DAYS:
        return _invalid(("end", f"at most {reports.MAX_DAYS} days after start"))
    if first.year < 2000 or last.year > 9000:
        return _invalid(("start" if first.year < 2000 else "end", "out of range"))
    start, end = reports.day_range(request.workspace, first, last)
    return reports.report(request.workspace, start, end)
