"""Notices to members: SLA warnings and escalations, hand-offs, @mentions.

A notice is a Notification row per member (shown in the UI, and as a desktop notification by the
inbox's script polling sla_views.notifications); after the transaction commits, a task delivers it by
e-mail to each member and, for department notices, to the department's Telegram chat. The row's key
makes a notice idempotent: the same key for the same member is stored, and delivered, once.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import Role
from smmdesk.inbox.models import Conversation, Notification
from smmdesk.lib import crypto, http

logger = logging.getLogger(__name__)

TEXT_LIMIT = Notification._meta.get_field("text").max_length
UNREAD_LIMIT = 50
# How long a delivery claim is remembered: far longer than any task retry.
CLAIM_SECONDS = 7 * 24 * 3600
TELEGRAM_API_URL = "https://api.telegram.org"

Text = str | Callable[[], str]


def _language(user) -> str:
    languages = {code for code, _name in settings.LANGUAGES}
    return user.language if user and user.language in languages else settings.LANGUAGE_CODE


def _render(text: Text, language: str) -> str:
    with translation.override(language):
        value = text() if callable(text) else str(text)
    value = " ".join(value.split())
    return value if len(value) <= TEXT_LIMIT else value[: TEXT_LIMIT - 1] + "…"


def notify(
    memberships: Iterable[Membership],
    conversation: Conversation | None,
    kind: str,
    text: Text,
    key: str,
    *,
    email: bool = True,
    telegram_chat_id: str = "",
) -> list[Notification]:
    """Store a notice for each member that does not have one with this key yet; return the new rows.

    `text` is a string or a function returning one: a function is called in each member's language
    (and the workspace's for Telegram), so notices read in the reader's language. After commit the new
    rows are delivered by e-mail (when `email`) and one message goes to `telegram_chat_id` if given."""
    wanted = {m.pk for m in memberships}
    if not wanted:
        return []
    known = set(
        Notification.objects.filter(membership_id__in=wanted, key=key).values_list("membership_id", flat=True)
    )
    members = Membership.objects.select_related("user").filter(pk__in=wanted - known)
    now = timezone.now()
    rows = [
        Notification(
            membership=member,
            conversation=conversation,
            kind=kind[:30],
            text=_render(text, _language(member.user)),
            key=key[:200],
            created_at=now,
        )
        for member in members
    ]
    # A notice created by another worker between the lookup and here is skipped, not duplicated.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    created = list(
        Notification.objects.filter(
            membership_id__in=[row.membership_id for row in rows], key=key[:200], created_at=now
        ).values_list("pk", flat=True)
    )
    telegram_text = ""
    if telegram_chat_id and created:
        telegram_text = _render(text, _workspace_language(conversation))
    if created and (email or telegram_text):
        transaction.on_commit(lambda: _enqueue(created, email, telegram_chat_id, telegram_text))
    return list(Notification.objects.filter(pk__in=created).order_by("pk"))


def warning_recipients(conversation: Conversation) -> tuple[list[Membership], str]:
    """Who hears that a deadline is near: the assignee, else the department's members (and its
    Telegram chat), else the SMM managers (the owner when there is none)."""
    if conversation.assignee_id:
        return [conversation.assignee], ""
    chat = ""
    if conversation.department_id:
        department = conversation.department
        chat = department.telegram_chat_id
        members = list(department.members.all())
        if members:
            return members, chat
    everyone = Membership.objects.filter(workspace_id=conversation.workspace_id)
    return list(everyone.filter(role=Role.SMM_MANAGER)) or list(everyone.filter(role=Role.OWNER)), chat


def escalation_recipients(conversation: Conversation) -> list[Membership]:
    """Who hears that a deadline was missed: every SMM manager and owner, and the assignee."""
    recipients = list(
        Membership.objects.filter(
            workspace_id=conversation.workspace_id, role__in=(Role.OWNER, Role.SMM_MANAGER)
        )
    )
    if conversation.assignee_id and all(m.pk != conversation.assignee_id for m in recipients):
        recipients.append(conversation.assignee)
    return recipients


def _workspace_language(conversation: Conversation | None) -> str:
    profile = getattr(conversation.workspace, "profile", None) if conversation else None
    for language in getattr(profile, "languages", None) or []:
        if language in {code for code, _name in settings.LANGUAGES}:
            return language
    return settings.LANGUAGE_CODE


def _enqueue(ids: list[int], email: bool, telegram_chat_id: str, telegram_text: str) -> None:
    from smmdesk.inbox.sla_tasks import deliver_notifications_task

    deliver_notifications_task(ids, email, telegram_chat_id, telegram_text)


def _claim(name: str) -> bool:
    # Notification has no "delivered" column yet; cache.add is atomic (Redis when scaled out), so a
    # task that runs twice sends once.
    return cache.add(f"smmdesk:notice-sent:{name}", True, CLAIM_SECONDS)


def deliver(
    notification_ids: list[int], *, email: bool = True, telegram_chat_id: str = "", telegram_text: str = ""
) -> None:
    """Send stored notices by e-mail and Telegram. Failures are logged; the notice stays in the UI."""
    rows = list(
        Notification.objects.select_related("membership__user", "membership__workspace").filter(
            pk__in=notification_ids
        )
    )
    if email:
        _send_emails(rows)
    if telegram_chat_id and telegram_text and rows:
        name = f"telegram:{telegram_chat_id}:{rows[0].key}"
        if _claim(name):
            send_telegram(telegram_chat_id, telegram_text)


def _send_emails(rows: list[Notification]) -> None:
    messages = []
    for row in rows:
        user = row.membership.user
        if not user.email or not user.is_active or not _claim(f"email:{row.pk}:{row.key}"):
            continue
        link = conversation_url(row.membership.workspace.slug, row.conversation_id)
        base = getattr(settings, "SMMDESK_PUBLIC_URL", "").rstrip("/")
        body = row.text + (f"\n\n{base}{link}" if base and link else "")
        messages.append(
            mail.EmailMessage(
                subject=f"[{row.membership.workspace.name}] {row.text}"[:150],
                body=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[user.email],
            )
        )
    if not messages:
        return
    try:
        mail.get_connection().send_messages(messages)
    except (OSError, smtplib.SMTPException, ValueError) as exc:  # ValueError: a header Django refuses
        logger.warning("notice e-mail failed: %s", exc)


def send_telegram(chat_id: str, text: str) -> bool:
    """Post a plain-text message to a Telegram chat with the operator's bot; False if not configured
    or refused (the reason is logged without the token)."""
    token = settings.SMMDESK_TELEGRAM_BOT_TOKEN
    if not token:
        return False
    base = getattr(settings, "SMMDESK_TELEGRAM_API_URL", "") or TELEGRAM_API_URL
    # The token is part of the URL, which the HTTP library logs: the log filter must know to hide it.
    crypto.remember_secret(token)
    try:
        # The base URL and the token come from the operator's environment, not from a member.
        http.post(
            f"{base.rstrip('/')}/bot{token}/sendMessage",
            json={"chat_id": chat_id, "text": text, "disable_web_page_preview": True},
            user_url=False,
            retries=2,
        )
    except http.OutboundError as exc:
        logger.warning("Telegram notice to chat %s failed: %s", chat_id, exc)
        return False
    return True


def conversation_url(slug: str, conversation_id: int | None) -> str:
    """The conversation's page, or "" while the inbox views do not provide one."""
    if conversation_id is None:
        return ""
    try:
        return reverse("inbox:conversation", kwargs={"slug": slug, "conversation_id": conversation_id})
    except NoReverseMatch:
        return ""


def unread_for(membership: Membership, limit: int = UNREAD_LIMIT) -> list[Notification]:
    """The member's unread notices in this workspace, newest first."""
    return list(
        Notification.objects.filter(membership=membership, read_at__isnull=True).order_by(
            "-created_at", "-pk"
        )[:limit]
    )


def mark_read(membership: Membership, ids: Iterable[int] | None = None) -> int:
    """Mark the member's notices read (all of them when `ids` is None); returns how many changed.
    Ids of other members' notices are ignored."""
    unread = Notification.objects.filter(membership=membership, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
