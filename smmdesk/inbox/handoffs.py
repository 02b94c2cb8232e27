"""Hand-off to a department and the department's answer (the use cases behind actions.hand_off and
actions.department_answer, which keep the contract's signatures)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import Role
from smmdesk.business.models import Department
from smmdesk.inbox.actions import (
    ANSWER_MAX,
    HANDOFF_NOTE_MAX,
    Event,
    InboxError,
    change_status,
    clean_text,
    display_name,
    learn_department,
    locked,
    mirror,
    notify_members,
    record,
    require_member,
)
from smmdesk.inbox.models import Conversation, HandOff, Message, Status


def reply_address(handoff: HandOff) -> str:
    domain = getattr(settings, "SMMDESK_INBOUND_EMAIL_DOMAIN", "") or "localhost"
    return f"reply+{handoff.reply_token}@{domain}"


def hand_off(conversation: Conversation, department_id: int, note: str, by: Membership) -> HandOff:
    """Hand the problem to a department: its members see it in their queue and are notified."""
    require_member(conversation, by)
    department = Department.objects.filter(
        pk=_int_or_none(department_id), workspace_id=conversation.workspace_id
    ).first()
    if department is None:
        raise InboxError(_("Choose a department of this workspace."), field="department")
    note = clean_text(note, "note", HANDOFF_NOTE_MAX, required=False)
    now = timezone.now()
    with transaction.atomic():
        original, conversation = conversation, locked(conversation)
        handoff = HandOff.objects.create(
            conversation=conversation,
            department=department,
            note=note,
            created_by=by,
            created_at=now,
            reply_token=secrets.token_urlsafe(24),
        )
        conversation.department = department
        change_status(conversation, Status.WAITING_DEPARTMENT, by, now, handoff=handoff.pk)
        conversation.updated_at = now
        conversation.save()
        record(
            conversation,
            Event.HANDOFF,
            by,
            now,
            handoff=handoff.pk,
            department=department.pk,
            department_name=department.name,
            note=note,
        )
        # A person chose the department: the learned router takes it as a label and retrains.
        learn_department(conversation, "handoff", queue=False)
        members = department.members.select_related("user").exclude(pk=by.pk)
        notify_members(
            list(members),
            conversation,
            "handoff",
            lambda: (
                _("%(who)s handed a conversation to %(department)s: %(subject)s")
                % {"who": display_name(by), "department": department.name, "subject": conversation}
            ),
            f"handoff:{handoff.pk}",
            # The hand-off e-mail (mail.send_handoff) reaches them with a reply address instead.
            email=False,
        )
        transaction.on_commit(lambda: _enqueue_after_handoff(handoff.pk, department))
    handoff.conversation = mirror(original, conversation)
    return handoff


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _enqueue_after_handoff(handoff_id: int, department: Department) -> None:
    """The notices, and the router's retraining on the new label, in one callback after the commit."""
    from smmdesk.inbox import reply_tasks
    from smmdesk.nlp import actions as nlp_actions

    reply_tasks.send_handoff_mail_task(handoff_id)
    if department.telegram_chat_id:
        reply_tasks.send_handoff_telegram_task(handoff_id)
    nlp_actions.queue_retrain(department.workspace_id, "router")


def department_answer(
    handoff: HandOff, text: str, *, by: Membership | None = None, email: str = ""
) -> HandOff:
    """The department's answer, from the UI (by) or from an e-mail reply (email).

    The first answer wins; the same answer again (a resent e-mail, a double click) changes nothing."""
    conversation = handoff.conversation
    if by is not None:
        require_member(conversation, by)
    text = clean_text(text, "text", ANSWER_MAX)
    who = (by.user.email if by is not None else email.strip().lower())[:254]
    now = timezone.now()
    with transaction.atomic():
        claimed = HandOff.objects.filter(pk=handoff.pk, answered_at__isnull=True).update(
            answer=text, answered_by=who, answered_at=now
        )
        handoff.refresh_from_db()
        if not claimed:
            if handoff.answer == text:
                return handoff
            raise InboxError(_("The department has already answered this hand-off."), field="text")
        original, conversation = conversation, locked(conversation)
        record(
            conversation,
            Event.DEPARTMENT_REPLY,
            by,
            now,
            handoff=handoff.pk,
            department=handoff.department_id,
            department_name=handoff.department.name,
            email=who if by is None else "",
            text=text,
        )
        still_waiting = (
            HandOff.objects.filter(conversation=conversation, answered_at__isnull=True)
            .exclude(pk=handoff.pk)
            .exists()
        )
        if conversation.status == Status.WAITING_DEPARTMENT and not still_waiting:
            change_status(conversation, Status.OPEN, by, now, handoff=handoff.pk)
        conversation.updated_at = now
        conversation.save()
        notify_members(
            [m for m in _answer_recipients(conversation, handoff) if by is None or m.pk != by.pk],
            conversation,
            "department_reply",
            lambda: (
                _("%(department)s answered: %(text)s") % {"department": handoff.department.name, "text": text}
            ),
            f"department_reply:{handoff.pk}",
        )
    handoff.conversation = mirror(original, conversation)
    return handoff


def _answer_recipients(conversation: Conversation, handoff: HandOff) -> list[Membership]:
    """Whoever will pass the answer on: the assignee and the person who handed it off; if neither is
    left, the SMM managers (then the owners)."""
    ids = {pk for pk in (conversation.assignee_id, handoff.created_by_id) if pk}
    members = Membership.objects.filter(pk__in=ids, workspace_id=conversation.workspace_id)
    if not ids or not members.exists():
        for role in (Role.SMM_MANAGER, Role.OWNER):
            members = Membership.objects.filter(workspace_id=conversation.workspace_id, role=role)
            if members.exists():
                break
    return list(members.select_related("user"))


def department_follow_up(handoff: HandOff, text: str, email: str) -> Message:
    """A second, different answer by e-mail: kept as an internal note rather than lost or overwriting
    the first."""
    text = clean_text(text, "text", ANSWER_MAX)
    now = timezone.now()
    conversation = handoff.conversation
    with transaction.atomic():
        message = Message.objects.create(
            workspace_id=conversation.workspace_id,
            channel_id=conversation.channel_id,
            conversation=conversation,
            direction=Message.Direction.NOTE,
            author_name=f"{handoff.department.name} <{email}>"[:200],
            author_external_id=email[:200],
            text=text,
            received_at=now,
        )
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=now)
    return message
