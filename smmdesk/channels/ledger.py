"""Publishing exactly once: the idempotency key's ledger around Adapter.publish.

Networks differ: Mastodon honours an Idempotency-Key header, VK's wall.post a `guid`, Bluesky a record
key we derive from the key; Telegram, X and Facebook have nothing. The ledger makes every one of them
safe to retry:

1. A row (channel, key) is claimed before the network is called. A second caller with the same key
   finds the row: "sent" returns the stored post; "sending" means another attempt may have posted, so
   the network is asked (find_published) and only a definite "not there" (from a network that
   finds_published) lets this attempt post; when such a network's lookup fails, the attempt is retried.
2. After the call the row is completed with the network's id, in its own transaction, so a crash between
   the post and the record leaves "sending", which step 1 resolves: where the network cannot be asked
   and does not drop repeats itself (Telegram, X, Facebook), the row becomes "uncertain" and nothing is
   posted until a person confirms the post is absent.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from smmdesk.channels.base import AdapterError, ExternalRef, PostVariant
from smmdesk.channels.models import Channel, PublishRecord

State = PublishRecord.State


def _claim(channel: Channel, key: str) -> tuple[PublishRecord, bool]:
    try:
        with transaction.atomic():
            return PublishRecord.objects.create(channel=channel, idempotency_key=key), True
    except IntegrityError:
        return PublishRecord.objects.get(channel=channel, idempotency_key=key), False


def _complete(record: PublishRecord, ref: ExternalRef) -> ExternalRef:
    PublishRecord.objects.filter(pk=record.pk).update(
        state=State.SENT,
        external_id=ref.external_id[:300],
        url=ref.url[:500],
        error="",
        updated_at=timezone.now(),
    )
    return ref


UNCERTAIN_TEXT = (
    "an earlier attempt may already have posted this and the network cannot be asked; "
    "check the network, then publish again with confirmed_absent"
)


def _look_up(adapter, key: str) -> tuple[ExternalRef | None, bool]:
    """(the post made with this key, whether the answer settles it): a network that finds_published
    settles "not there" too; from any other, None only means "cannot tell"."""
    try:
        found = adapter.find_published(key)
    except AdapterError as exc:
        if adapter.finds_published and (exc.reconnect or not exc.permanent):
            # The network that could tell did not answer this time: ask again later, never guess.
            raise
        # Networks without a lookup refuse it; that is "unknown", decided by idempotent_publish.
        return None, False
    return found, found is not None or adapter.finds_published


def publish_once(
    channel: Channel, variant: PostVariant, key: str, adapter=None, *, confirmed_absent: bool = False
) -> ExternalRef:
    """Publish `variant` on `channel` under `key`; the same key never makes a second post.

    confirmed_absent: a person has looked and the post is not on the network, so an attempt left
    uncertain by a crash may be made again."""
    if not key:
        raise ValueError("idempotency key: required")
    adapter = adapter or channel.adapter()
    record, fresh = _claim(channel, key)
    if not fresh:
        if record.state == State.SENT:
            return ExternalRef(record.external_id, record.url)
        if record.state in (State.SENDING, State.UNCERTAIN):
            # An earlier attempt may have posted before it could record it: ask before posting again.
            found, settled = _look_up(adapter, key)
            if found is not None:
                return _complete(record, found)
            absent = settled or (record.state == State.UNCERTAIN and confirmed_absent)
            if not adapter.idempotent_publish and not absent:
                # Posting again could make a second post that nobody can take back: a person decides.
                PublishRecord.objects.filter(pk=record.pk).update(
                    state=State.UNCERTAIN, error=UNCERTAIN_TEXT, updated_at=timezone.now()
                )
                raise AdapterError(UNCERTAIN_TEXT, permanent=True)
        PublishRecord.objects.filter(pk=record.pk).update(
            state=State.SENDING, error="", updated_at=timezone.now()
        )
    try:
        ref = adapter.publish(variant, key)
    except AdapterError as exc:
        if exc.retry_after is not None and not exc.permanent:
            # A rate limit refuses the call before anything is posted: the retry may post freely.
            PublishRecord.objects.filter(pk=record.pk).update(state=State.FAILED, error=exc.message[:2000])
            raise
        if exc.permanent:
            PublishRecord.objects.filter(pk=record.pk).update(
                state=State.FAILED, error=exc.message[:2000], updated_at=timezone.now()
            )
        raise
    return _complete(record, ref)
