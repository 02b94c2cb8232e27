"""Huey tasks that bring customer messages in: stored webhook bodies, and polling of channels.

Both lean on ingest() being idempotent: a raw event processed twice, or a page of a poll read again after
a crash, changes nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.datastructures import CaseInsensitiveMapping
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from smmdesk.channels import health
from smmdesk.channels.actions import scrub
from smmdesk.channels.base import Adapter, AdapterError, Capability
from smmdesk.channels.models import Channel
from smmdesk.inbox.ingest import IngestResult, ingest
from smmdesk.inbox.models import RawEvent
from smmdesk.inbox.webhook_views import stored_headers

logger = logging.getLogger(__name__)

# A busy channel gets at most this many pages per run; the next minute's run carries on from the cursor.
POLL_PAGES = 10
POLL_LOCK_SECONDS = 300
ERROR_MAX = 2000


def _secrets(channel: Channel) -> dict:
    try:
        return channel.secret_values()
    except ValueError:
        return {}


# Waiting deliveries of one channel taken in together. Under a burst the queue runs behind, and then one
# transaction, one triage call and one refinement task carry up to this many bodies instead of one each;
# when the queue keeps up, every task finds only its own.
BATCH = 50


def process_raw_event(raw_event_id: int, batch: int = BATCH) -> IngestResult | None:
    """Parse one stored webhook body, with its channel's deliveries waiting after it, and take their
    events in; None when there was nothing (more) to do for this one."""
    raw = RawEvent.objects.select_related("channel__workspace").filter(pk=raw_event_id).first()
    if raw is None or raw.processed_at is not None:
        return None
    channel = raw.channel
    try:
        if not channel.known_kind:
            raise AdapterError(f"unknown channel kind {channel.kind}", permanent=True)
        adapter = channel.adapter()
    except (AdapterError, ValueError) as exc:
        _refuse(raw, exc)
        return None
    try:
        with transaction.atomic():
            return _take_in(adapter, raw, batch)
    except Exception:
        if batch == 1:
            raise
        # One body the ingestion cannot take must not hold back those that came with it: each task
        # takes its own alone, and only the bad one fails (and is retried by the queue).
        logger.exception("raw event %s: its batch failed; taking it in alone", raw.pk)
        return process_raw_event(raw_event_id, batch=1)


def _take_in(adapter: Adapter, raw: RawEvent, batch: int) -> IngestResult | None:
    # Locked in id order, waiting for a batch another worker holds; rows it finished drop out of the
    # query then (PostgreSQL checks the condition again), so each body is taken in by one task. SQLite
    # has one writer at a time, which serialises the same.
    waiting = list(
        RawEvent.objects.select_for_update()
        .filter(channel=raw.channel_id, processed_at__isnull=True, pk__gte=raw.pk)
        .order_by("pk")[:batch]
    )
    if not waiting or waiting[0].pk != raw.pk:
        return None  # another task took this one in meanwhile
    events, parsed = [], []
    for row in waiting:
        try:
            headers = stored_headers(row.headers or {}, adapter.secret_headers)
            # Stored header names keep the sender's case; adapters ask for them by their usual name.
            events += adapter.parse_webhook(bytes(row.body), CaseInsensitiveMapping(headers))
            parsed.append(row.pk)
        except (AdapterError, ValueError) as exc:
            _refuse(row, exc, raw.channel)
    if not parsed:
        return None
    result = ingest(raw.channel, events)
    RawEvent.objects.filter(pk__in=parsed, processed_at__isnull=True).update(
        processed_at=timezone.now(), error=""
    )
    return result


def _refuse(raw: RawEvent, exc: AdapterError | ValueError, channel: Channel | None = None) -> None:
    channel = channel or raw.channel
    reason = exc.message if isinstance(exc, AdapterError) else _("The channel's secrets cannot be read.")
    reason = scrub(str(reason), _secrets(channel))[:ERROR_MAX]
    RawEvent.objects.filter(pk=raw.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), error=reason
    )
    logger.warning("raw event %s of channel %s refused: %s", raw.pk, channel.pk, reason)


@db_task(retries=3, retry_delay=30, retry_backoff=2)
def process_raw_event_task(raw_event_id: int) -> None:
    process_raw_event(raw_event_id)


def can_poll(adapter_class: type[Adapter]) -> bool:
    """Receives messages and implements poll (webhook-only adapters keep the base class's refusal)."""
    return Capability.INBOX in adapter_class.capabilities and adapter_class.poll is not Adapter.poll


def poll_channel(channel_id: int) -> IngestResult:
    """Read what is new on one channel since the stored cursor, a page at a time."""
    result = IngestResult()
    channel = Channel.objects.select_related("workspace").filter(pk=channel_id).first()
    if (
        channel is None
        or channel.status in (Channel.Status.DISABLED, Channel.Status.NEEDS_RECONNECT)
        or not channel.known_kind
        or not can_poll(channel.adapter_class)
    ):
        return result
    lock = f"inbox:poll-lock:{channel_id}"
    if not cache.add(lock, 1, POLL_LOCK_SECONDS):
        return result
    try:
        adapter = channel.adapter()
        cursor = channel.cursor or None
        for _page in range(POLL_PAGES):
            events, next_cursor = adapter.poll(cursor)
            if events:
                result += ingest(channel, events)
            # Stored after ingesting: a crash in between reads the page again, which changes nothing.
            Channel.objects.filter(pk=channel_id).update(cursor=(next_cursor or "")[:500])
            if not events or next_cursor == cursor:
                break
            cursor = next_cursor
    except AdapterError as exc:
        health.record_failure(channel, exc)
    except ValueError:
        logger.warning("polling channel %s: its secrets cannot be read with the current key", channel_id)
    finally:
        cache.delete(lock)
    return result


@db_task()
def poll_channel_task(channel_id: int) -> None:
    poll_channel(channel_id)


def channels_to_poll() -> list[int]:
    channels = Channel.objects.exclude(status__in=[Channel.Status.DISABLED, Channel.Status.NEEDS_RECONNECT])
    return [
        channel.pk
        for channel in channels.only("pk", "kind").order_by("pk")
        if channel.known_kind and can_poll(channel.adapter_class)
    ]


# Every minute; each channel is its own task, so a slow network never holds up the others.
@db_periodic_task(crontab(minute="*"))
def poll_channels() -> None:
    for channel_id in channels_to_poll():
        poll_channel_task(channel_id)


STRANDED_AFTER = timedelta(minutes=2)


def stranded_raw_events(now=None) -> list[int]:
    """Stored webhook bodies nobody processed: the queue lost the task (a worker killed mid-task, a
    queue outage when the webhook was accepted). Processing is idempotent, so queueing again is safe."""
    cutoff = (now or timezone.now()) - STRANDED_AFTER
    return list(
        RawEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )


@db_periodic_task(crontab(minute="*/5"))
def requeue_stranded_raw_events() -> None:
    for raw_event_id in stranded_raw_events():
        process_raw_event_task(raw_event_id)
