"""Huey tasks that leave smmdesk: replies to customers, and hand-off notices to departments.

A reply is sent at most once per claim: the task re-reads the message, claims it with a conditional
UPDATE on its attempt counter, calls the adapter with the message's idempotency key, and records the
network's id before anything else. A message with an external id is never sent again.
"""

from __future__ import annotations

import logging
import traceback

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task
from huey.exceptions import RetryTask

from smmdesk.channels import health
from smmdesk.channels.actions import scrub
from smmdesk.channels.base import AdapterError, OutboundReply
from smmdesk.channels.models import Channel
from smmdesk.inbox.models import Conversation, HandOff, Message, TimelineEvent

logger = logging.getLogger(__name__)
Delivery = Message.Delivery

SEND_RETRIES = 5
# Seconds before the first retry; each next one waits twice as long (30 s, 1 min, 2 min, 4 min, 8 min).
RETRY_DELAY = 30
MAX_RETRY_DELAY = 3600
ERROR_MAX = 1000
# Longer than any adapter call takes, with lib.http's own retries.
LEASE_SECONDS = 300


class SendLater(Exception):
    """The network failed in a way that may pass; `retry_after` is its own hint, if it gave one."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def network_thread(conversation: Conversation) -> str:
    """The network's id of the thread: what ingestion put after the kind in the conversation's key."""
    return (
        conversation.thread_key.split(":", 1)[1]
        if ":" in conversation.thread_key
        else conversation.thread_key
    )


def _recipient(message: Message) -> str:
    last_in = (
        Message.objects.filter(conversation_id=message.conversation_id, direction=Message.Direction.IN)
        .exclude(author_external_id="")
        .last()
    )
    if last_in is not None:
        return last_in.author_external_id
    customer = message.conversation.customer
    if customer is None:
        return ""
    identity = customer.identities.filter(channel_id=message.channel_id).first()
    return identity.network_id if identity else ""


def _secrets(channel: Channel) -> dict:
    try:
        return channel.secret_values()
    except ValueError:
        return {}


def _fail(message: Message, reason: str, at) -> None:
    """Record a reply that will not be sent: its reason on the message and a step in the timeline."""
    with transaction.atomic():
        failed = Message.objects.filter(pk=message.pk, delivery=Delivery.PENDING, external_id="").update(
            delivery=Delivery.FAILED, delivery_error=reason[:ERROR_MAX]
        )
        if not failed:
            return
        TimelineEvent.objects.create(
            conversation_id=message.conversation_id,
            kind=TimelineEvent.Kind.REPLY_FAILED,
            actor=message.author,
            created_at=at,
            detail={"message": message.pk, "reason": reason[:ERROR_MAX]},
        )
        Conversation.objects.filter(pk=message.conversation_id).update(updated_at=at)
        if message.author is not None:
            from smmdesk.inbox.actions import notify_members

            notify_members(
                [message.author],
                message.conversation,
                "reply_failed",
                lambda: _("Your reply was not sent: %(reason)s") % {"reason": reason},
                f"reply_failed:{message.pk}:{message.attempts}",
            )
    logger.warning("reply %s in conversation %s failed: %s", message.pk, message.conversation_id, reason)


def deliver(message_id: int, *, final: bool = True) -> str:
    """Send one pending reply; returns "sent", "failed" or "skipped".

    Raises SendLater when the failure may pass and this is not the `final` attempt; on the final one the
    reply is marked failed with the reason, for the person to retry.
    """
    message = (
        Message.objects.select_related("channel", "conversation__customer", "author__user")
        .filter(pk=message_id, direction=Message.Direction.OUT)
        .first()
    )
    if message is None or message.delivery != Delivery.PENDING or message.external_id:
        return "skipped"
    # A run that finds the lease taken leaves the reply to the run holding it (the lease lapses if that
    # one dies). Message has no "sending" state; the cache (Redis when scaled out) keeps the lease.
    if not cache.add(lease_key(message.pk), 1, LEASE_SECONDS):
        return "skipped"
    try:
        # Should the cache forget the lease, two runs reading the same counter still make one claim.
        claimed = Message.objects.filter(
            pk=message.pk, delivery=Delivery.PENDING, external_id="", attempts=message.attempts
        ).update(attempts=F("attempts") + 1)
        if not claimed:
            return "skipped"
        message.attempts += 1
        return _attempt(message, final)
    finally:
        cache.delete(lease_key(message.pk))


def lease_key(message_id: int) -> str:
    return f"inbox:reply-sending:{message_id}"


def is_sending(message_id: int) -> bool:
    return cache.get(lease_key(message_id)) is not None


def _attempt(message: Message, final: bool) -> str:
    now = timezone.now()
    channel = message.channel
    if not channel.is_enabled:
        _fail(message, _("The channel is disabled."), now)
        return "failed"
    secrets = _secrets(channel)
    reply = OutboundReply(
        text=message.text,
        thread_id=network_thread(message.conversation),
        reply_to_id=message.reply_to_external_id,
        recipient_id=_recipient(message),
        idempotency_key=message.idempotency_key,
    )
    try:
        ref = channel.adapter().send_reply(reply)
    except AdapterError as exc:
        reason = scrub(exc.message or _("The network refused the reply."), secrets)
        # A revoked token marks the channel and tells its owners, whichever call noticed it first.
        health.record_failure(channel, exc)
        if exc.permanent or final:
            _fail(message, reason, now)
            return "failed"
        Message.objects.filter(pk=message.pk).update(delivery_error=reason[:ERROR_MAX])
        raise SendLater(reason, exc.retry_after)
    except ValueError:
        _fail(message, _("The channel's stored secrets cannot be read. Enter them again."), now)
        return "failed"
    except Exception as exc:  # noqa: BLE001 - an adapter bug must end as a visible reason, not a silent loss
        logger.error(
            "reply %s: adapter crashed: %s",
            message.pk,
            scrub("".join(traceback.format_exception(exc)), secrets),
        )
        reason = _("Sending failed unexpectedly. The details are in the server log.")
        if final:
            _fail(message, reason, now)
            return "failed"
        raise SendLater(reason)
    _record_sent(message, ref.external_id, timezone.now())
    return "sent"


def _record_sent(message: Message, external_id: str, at) -> None:
    changes = {"delivery": Delivery.SENT, "sent_at": at, "delivery_error": ""}
    try:
        with transaction.atomic():
            Message.objects.filter(pk=message.pk).update(external_id=external_id[:300], **changes)
    except IntegrityError:
        # The network's echo of this reply was taken in first under the same id; the reply is still sent.
        logger.warning("reply %s: external id %s is already taken in this channel", message.pk, external_id)
        Message.objects.filter(pk=message.pk).update(**changes)
    Conversation.objects.filter(pk=message.conversation_id).update(updated_at=at)


def retry_delay(attempt: int, retry_after: float | None) -> float:
    backoff = RETRY_DELAY * 2 ** max(attempt - 1, 0)
    return min(MAX_RETRY_DELAY, max(retry_after or 0, backoff))


@db_task(retries=SEND_RETRIES, retry_delay=RETRY_DELAY, retry_backoff=2, context=True)
def send_reply_task(message_id: int, task=None) -> str:
    # Without a task (call_local), this run is the only one: a failure is final.
    final = task is None or not task.retries
    try:
        return deliver(message_id, final=final)
    except SendLater as exc:
        attempts = Message.objects.filter(pk=message_id).values_list("attempts", flat=True).first() or 1
        # RetryTask does not use up a retry by itself; taking one here keeps the total at SEND_RETRIES.
        task.retries -= 1
        raise RetryTask(exc.reason, delay=retry_delay(attempts, exc.retry_after))


# --- hand-off notices ----------------------------------------------------------------------------------

NOTICE_CLAIM_SECONDS = 7 * 24 * 3600


def _claim(key: str) -> bool:
    # HandOff has no "notified" column; the cache's atomic add keeps a rerun of this task from e-mailing
    # the department twice.
    return cache.add(key, 1, NOTICE_CLAIM_SECONDS)


@db_task(retries=3, retry_delay=60, retry_backoff=2)
def send_handoff_mail_task(handoff_id: int) -> int:
    from smmdesk.inbox import mail

    handoff = HandOff.objects.filter(pk=handoff_id).first()
    key = f"inbox:handoff-mail:{handoff_id}"
    if handoff is None or not _claim(key):
        return 0
    try:
        return mail.send_handoff(handoff)
    except Exception:
        cache.delete(key)
        raise


@db_task(retries=3, retry_delay=60, retry_backoff=2)
def send_handoff_telegram_task(handoff_id: int) -> bool:
    """The hand-off in the department's Telegram chat, with the operator's bot (if one is configured)."""
    from smmdesk.inbox import mail, notify

    handoff = HandOff.objects.select_related("department", "conversation__workspace__profile").filter(
        pk=handoff_id
    )
    handoff = handoff.first()
    key = f"inbox:handoff-telegram:{handoff_id}"
    if handoff is None or not handoff.department.telegram_chat_id or not _claim(key):
        return False
    with translation.override(mail.workspace_language(handoff.conversation.workspace)):
        text = mail.handoff_text(handoff, short=True)
    sent = notify.send_telegram(handoff.department.telegram_chat_id, text)
    if not sent:
        # Not configured, or refused (already logged): a later run of this task may try again.
        cache.delete(key)
    return sent
