"""Use cases on conversations: reply, note, assign, status, hand-off, department answer, moderation.

Signatures are the contract between the inbox UI, the API and the hand-off e-mail path. Role checks
belong to the views (`workspace_view`), except moderation, which this module checks again because a
comment hidden on the network cannot be taken back. Every action refuses a member of another workspace.
Network calls and e-mail happen in tasks enqueued on commit; only moderation calls the network at once,
so the person sees whether the network did it.
"""

from __future__ import annotations

import logging
import re
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.accounts.actions import audit
from smmdesk.accounts.models import AuditEvent, Membership
from smmdesk.accounts.roles import allowed
from smmdesk.channels.base import AdapterError, Capability, ExternalRef
from smmdesk.inbox import sla
from smmdesk.inbox.models import (
    Conversation,
    HandOff,
    Kind,
    Message,
    Priority,
    Status,
    TimelineEvent,
    TriageStage,
)

logger = logging.getLogger(__name__)
Event = TimelineEvent.Kind

NOTE_MAX = 10_000
HANDOFF_NOTE_MAX = 5_000
ANSWER_MAX = 20_000
REASON_MAX = 500

# Which status a person may set from which. "new" is only ever set by ingestion; waiting on a department
# needs a department (hand_off sets both); resolved and closed conversations can be reopened.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(
        {Status.OPEN, Status.WAITING_DEPARTMENT, Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CLOSED}
    ),
    Status.OPEN: frozenset(
        {Status.WAITING_DEPARTMENT, Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CLOSED}
    ),
    Status.WAITING_DEPARTMENT: frozenset(
        {Status.OPEN, Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CLOSED}
    ),
    Status.WAITING_CUSTOMER: frozenset(
        {Status.OPEN, Status.WAITING_DEPARTMENT, Status.RESOLVED, Status.CLOSED}
    ),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
}
MODERATION_ACTIONS = ("hide", "delete")
# A mention is "@" + an e-mail address, its local part, or the member's name without spaces; the "@"
# must not follow a word character, so an e-mail address typed in a note mentions nobody by accident.
MENTION = re.compile(r"(?<![\w@])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


class InboxError(Exception):
    """A refused use case; `field` names the input at fault (for forms and the API)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- helpers ---------------------------------------------------------------------------------------


def require_member(
    conversation: Conversation, membership: Membership | None, field: str | None = None
) -> None:
    if membership is None or membership.workspace_id != conversation.workspace_id:
        raise InboxError(_("This person is not a member of this workspace."), field=field)


def locked(conversation: Conversation) -> Conversation:
    """The current row, locked until commit: ingestion may have changed it since the page was shown.

    Only this row: a plain FOR UPDATE would lock the joined workspace and channel rows too, so every
    agent's action would queue behind every other's, and ingestion (whose inserts take a key-share lock
    on the workspace row) would deadlock with them."""
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("channel", "workspace")
        .get(pk=conversation.pk)
    )


def mirror(target: Conversation, source: Conversation) -> Conversation:
    """Leave the caller's instance showing what was saved: views may render it after the action."""
    if target is not source:
        for field in Conversation._meta.concrete_fields:
            setattr(target, field.attname, getattr(source, field.attname))
        target._state.fields_cache = dict(source._state.fields_cache)
    return target


def display_name(membership: Membership | None) -> str:
    if membership is None:
        return ""
    return membership.user.name or membership.user.email


def record(conversation: Conversation, kind: str, actor: Membership | None, at, **detail) -> TimelineEvent:
    return TimelineEvent.objects.create(
        conversation=conversation, kind=kind, actor=actor, created_at=at, detail=detail
    )


def clean_text(text, field: str, limit: int, required: bool = True) -> str:
    text = (text or "").strip() if isinstance(text, str) or text is None else None
    if text is None:
        raise InboxError(_("Expected text."), field=field)
    if required and not text:
        raise InboxError(_("This field is required."), field=field)
    if len(text) > limit:
        raise InboxError(_("Enter at most %(count)s characters.") % {"count": limit}, field=field)
    return text


def notify_members(memberships, conversation: Conversation, kind: str, text, key: str, **options) -> None:
    """`text` is a function returning the notice, so each member reads it in their own language."""
    recipients = [m for m in memberships if m is not None]
    if not recipients:
        return
    from smmdesk.inbox import notify

    notify.notify(recipients, conversation, kind, text, key, **options)


def change_status(conversation: Conversation, new: str, actor: Membership | None, at, **detail) -> None:
    old = conversation.status
    if old == new:
        return
    conversation.status = new
    if new in (Status.RESOLVED, Status.CLOSED):
        # Closing straight from open still counts as resolving it, for the reports.
        conversation.resolved_at = conversation.resolved_at or at
    else:
        conversation.resolved_at = None
    record(conversation, Event.STATUS, actor, at, old=old, new=new, **detail)
    sla.on_status(conversation, old, new, at)


# --- replies and notes -----------------------------------------------------------------------------


def reply(conversation: Conversation, author: Membership, text: str) -> Message:
    """Queue a public reply to the customer through the channel's adapter (sent by a task, retried)."""
    require_member(conversation, author)
    channel = conversation.channel
    if not channel.is_enabled:
        raise InboxError(_("This channel is disabled. Enable it in the channel settings to reply."))
    if not channel.known_kind or Capability.REPLY not in channel.adapter_class.capabilities:
        raise InboxError(_("Replies cannot be sent through this channel."))
    limit = channel.adapter_class.limits.max_text
    text = clean_text(text, "text", limit)
    now = timezone.now()
    with transaction.atomic():
        original, conversation = conversation, locked(conversation)
        last_in = conversation.messages.filter(direction=Message.Direction.IN).exclude(external_id="").last()
        message = Message.objects.create(
            workspace_id=conversation.workspace_id,
            channel=conversation.channel,
            conversation=conversation,
            direction=Message.Direction.OUT,
            reply_to_external_id=last_in.external_id if last_in else "",
            author=author,
            author_name=display_name(author)[:200],
            text=text,
            received_at=now,
            delivery=Message.Delivery.PENDING,
            idempotency_key=uuid.uuid4().hex,
        )
        if conversation.status == Status.NEW:
            # Once answered it is no longer new; waiting on the customer is the agent's choice.
            change_status(conversation, Status.OPEN, author, now)
        conversation.last_outbound_at = now
        conversation.updated_at = now
        sla.on_reply(conversation, now)
        conversation.save()
        transaction.on_commit(lambda: _enqueue_send(message.pk))
    mirror(original, conversation)
    return message


def _enqueue_send(message_id: int) -> None:
    from smmdesk.inbox import reply_tasks

    reply_tasks.send_reply_task(message_id)


def retry_reply(message: Message, by: Membership) -> Message:
    """Send a failed reply again, with the same idempotency key, so a network that did get it keeps one.

    A reply still pending and not being sent right now (its worker died, or it waits for a retry) is
    queued again at once."""
    from smmdesk.inbox import reply_tasks

    require_member(message.conversation, by)
    if message.direction != Message.Direction.OUT:
        raise InboxError(_("Only replies can be sent again."))
    if not message.channel.is_enabled:
        raise InboxError(_("This channel is disabled. Enable it in the channel settings to reply."))
    with transaction.atomic():
        claimed = Message.objects.filter(
            pk=message.pk, delivery=Message.Delivery.FAILED, external_id=""
        ).update(delivery=Message.Delivery.PENDING, delivery_error="")
        message.refresh_from_db()
        stalled = message.delivery == Message.Delivery.PENDING and not message.external_id
        if not claimed and not stalled:
            raise InboxError(_("This reply has not failed, so there is nothing to retry."))
        if claimed or not reply_tasks.is_sending(message.pk):
            transaction.on_commit(lambda: _enqueue_send(message.pk))
    return message


def mentioned(workspace_id: int, text: str) -> list[Membership]:
    """Members named in a note: @ plus an e-mail address, its local part, or the name without spaces.

    Matching ignores case; a word that fits several members mentions them all (better one notice too
    many than a question nobody sees)."""
    words = {match.rstrip(".-").casefold() for match in MENTION.findall(text or "")}
    words.discard("")
    if not words:
        return []
    found = []
    members = Membership.objects.filter(workspace_id=workspace_id, user__is_active=True).select_related(
        "user"
    )
    for member in members.order_by("pk"):
        email = member.user.email.casefold()
        names = {email, email.split("@", 1)[0], "".join(member.user.name.split()).casefold()}
        if words & (names - {""}):
            found.append(member)
    return found


def add_note(conversation: Conversation, author: Membership, text: str) -> Message:
    """An internal note; @mentions of members notify them."""
    require_member(conversation, author)
    text = clean_text(text, "text", NOTE_MAX)
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            workspace_id=conversation.workspace_id,
            channel_id=conversation.channel_id,
            conversation=conversation,
            direction=Message.Direction.NOTE,
            author=author,
            author_name=display_name(author)[:200],
            text=text,
            received_at=now,
        )
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=now)
        others = [m for m in mentioned(conversation.workspace_id, text) if m.pk != author.pk]
        notify_members(
            others,
            conversation,
            "mention",
            lambda: _("%(who)s mentioned you: %(text)s") % {"who": display_name(author), "text": text},
            f"mention:{message.pk}",
        )
    return message


# --- assignment, status, priority ------------------------------------------------------------------


def assign(conversation: Conversation, assignee: Membership | None, by: Membership) -> Conversation:
    require_member(conversation, by)
    if assignee is not None:
        require_member(conversation, assignee, field="assignee")
        if not allowed(assignee.role, "inbox.reply"):
            raise InboxError(_("This member's role cannot answer conversations."), field="assignee")
    now = timezone.now()
    with transaction.atomic():
        original, conversation = conversation, locked(conversation)
        old = conversation.assignee
        if (old.pk if old else None) == (assignee.pk if assignee else None):
            return mirror(original, conversation)
        conversation.assignee = assignee
        conversation.updated_at = now
        conversation.save()
        record(
            conversation,
            Event.ASSIGNED,
            by,
            now,
            old=old.pk if old else None,
            new=assignee.pk if assignee else None,
            old_name=display_name(old),
            new_name=display_name(assignee),
        )
        if assignee is not None and assignee.pk != by.pk:
            notify_members(
                [assignee],
                conversation,
                "assigned",
                lambda: (
                    _("%(who)s assigned you: %(subject)s")
                    % {"who": display_name(by), "subject": conversation}
                ),
                f"assigned:{conversation.pk}:{now.isoformat()}",
            )
    return mirror(original, conversation)


def set_status(conversation: Conversation, status: str, by: Membership) -> Conversation:
    require_member(conversation, by)
    if status not in Status.values:
        raise InboxError(_("Unknown status."), field="status")
    now = timezone.now()
    with transaction.atomic():
        original, conversation = conversation, locked(conversation)
        old = conversation.status
        if old == status:
            return mirror(original, conversation)
        if status not in TRANSITIONS[old]:
            raise InboxError(
                _("A conversation cannot go from “%(old)s” to “%(new)s”.")
                % {"old": Status(old).label, "new": Status(status).label},
                field="status",
            )
        if status == Status.WAITING_DEPARTMENT and conversation.department_id is None:
            raise InboxError(_("Hand the conversation to a department first."), field="status")
        change_status(conversation, status, by, now)
        conversation.updated_at = now
        conversation.save()
        if status == Status.RESOLVED and conversation.department_id is not None:
            learn_department(conversation, "resolution")
    return mirror(original, conversation)


def learn_department(conversation: Conversation, source: str, *, queue: bool = True) -> None:
    """The department that handled it is what the learned router should have said (a routing label)."""
    from smmdesk.nlp import actions as nlp_actions

    nlp_actions.record_routing_label(conversation, conversation.department_id, source, queue=queue)


def set_priority(conversation: Conversation, priority: int, by: Membership) -> Conversation:
    require_member(conversation, by)
    try:
        priority = int(priority)
    except (TypeError, ValueError):
        priority = None
    if priority not in Priority.values:
        raise InboxError(_("Unknown priority."), field="priority")
    now = timezone.now()
    with transaction.atomic():
        original, conversation = conversation, locked(conversation)
        old = conversation.priority
        if old == priority:
            return mirror(original, conversation)
        conversation.priority = priority
        conversation.updated_at = now
        conversation.save()
        record(conversation, Event.PRIORITY, by, now, old=old, new=priority)
    return mirror(original, conversation)


# --- hand-off (implemented in handoffs.py) ---------------------------------------------------------


def hand_off(conversation: Conversation, department_id: int, note: str, by: Membership) -> HandOff:
    """Hand the problem to a department: its members see it in their queue and are notified."""
    from smmdesk.inbox import handoffs

    return handoffs.hand_off(conversation, department_id, note, by)


def department_answer(
    handoff: HandOff, text: str, *, by: Membership | None = None, email: str = ""
) -> HandOff:
    """The department's answer, from the UI (by) or from an e-mail reply (email)."""
    from smmdesk.inbox import handoffs

    return handoffs.department_answer(handoff, text, by=by, email=email)


def department_follow_up(handoff: HandOff, text: str, email: str) -> Message:
    from smmdesk.inbox import handoffs

    return handoffs.department_follow_up(handoff, text, email)


def reply_address(handoff: HandOff) -> str:
    from smmdesk.inbox import handoffs

    return handoffs.reply_address(handoff)


# --- sentiment after ingestion (the worker's refinement, a person's correction) ---------------------------


def set_sentiment(verdicts: dict[int, tuple[str, float | None]], stage: str) -> list[int]:
    """Sentiment from a later pass than the fast one at ingestion: `verdicts` maps customer message ids
    to (label, score). The worker's refinement replaces only the fast pass, so a person's correction is
    never overwritten; a correction replaces anything. The conversation follows its latest customer
    message. Returns the ids of the messages changed."""
    replaceable = [TriageStage.FAST] if stage == TriageStage.REFINED else TriageStage.values
    changed = [
        pk
        for pk, (label, score) in verdicts.items()
        if Message.objects.filter(pk=pk, direction=Message.Direction.IN, triage_stage__in=replaceable).update(
            sentiment=label, sentiment_score=score, triage_stage=stage
        )
    ]
    touched = set(Message.objects.filter(pk__in=changed).values_list("conversation_id", flat=True))
    for conversation_id in sorted(touched):
        latest = (
            Message.objects.filter(conversation_id=conversation_id, direction=Message.Direction.IN)
            .order_by("-received_at", "-pk")
            .values_list("sentiment", flat=True)
            .first()
        )
        Conversation.objects.filter(pk=conversation_id).exclude(sentiment=latest or "").update(
            sentiment=latest or ""
        )
    return changed


# --- moderation --------------------------------------------------------------------------------------


def moderate(message: Message, action: str, reason: str, by: Membership) -> Message:
    """Hide or delete a customer's comment on the network; the reason goes to the audit log."""
    conversation = message.conversation
    require_member(conversation, by)
    if not allowed(by.role, "inbox.moderate"):
        raise InboxError(_("Your role cannot hide or delete comments."))
    if action not in MODERATION_ACTIONS:
        raise InboxError(_("Choose hide or delete."), field="action")
    reason = clean_text(reason, "reason", REASON_MAX)
    if (
        message.direction != Message.Direction.IN
        or conversation.kind != Kind.COMMENT
        or not message.external_id
    ):
        raise InboxError(_("Only customers' comments can be hidden or deleted."))
    channel = message.channel
    if not channel.known_kind or Capability.MODERATE not in channel.adapter_class.capabilities:
        raise InboxError(_("This network does not let us hide or delete comments."))
    done = "hidden" if action == "hide" else "deleted"
    if done in message.flags:
        return message
    try:
        channel.adapter().moderate(ExternalRef(message.external_id), action)
    except AdapterError as exc:
        from smmdesk.channels.actions import scrub

        raise InboxError(
            _("The network refused: %(reason)s") % {"reason": scrub(exc.message, _secrets(channel))}
        )
    except ValueError:
        raise InboxError(_("The channel's stored secrets cannot be read. Enter them again."))
    now = timezone.now()
    with transaction.atomic():
        message.flags = [*message.flags, done]
        Message.objects.filter(pk=message.pk).update(flags=message.flags)
        record(conversation, Event.MODERATED, by, now, message=message.pk, action=action, reason=reason)
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=now)
        audit(
            AuditEvent.Action.COMMENT_MODERATED,
            actor=by.user,
            workspace=conversation.workspace,
            conversation=conversation.pk,
            message=message.pk,
            external_id=message.external_id,
            moderation=action,
            reason=reason,
        )
    logger.info(
        "comment %s (message %s, conversation %s) %s on the network by %s: %s",
        message.external_id,
        message.pk,
        conversation.pk,
        done,
        by.user.email,
        reason,
    )
    return message


def _secrets(channel) -> dict:
    try:
        return channel.secret_values()
    except ValueError:
        return {}
