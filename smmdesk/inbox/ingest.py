"""Ingestion: adapter events become messages in conversations.

For each event, in order: echo guard, dedup on (channel, external id), threading, customer, triage,
routing (new conversations), SLA. A batch is one transaction and costs a fixed number of lookups, not
a few per message, so polling and webhooks with many events stay cheap. Delivering the same events again
changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from smmdesk.channels.base import InboundEvent
from smmdesk.channels.models import Channel
from smmdesk.inbox import memo, routing, sla, triage
from smmdesk.inbox.models import (
    Conversation,
    Customer,
    CustomerIdentity,
    Kind,
    Message,
    Priority,
    Status,
    TimelineEvent,
)
from smmdesk.lib.text import storable

# What ingestion, routing and the SLA clock may change on an existing conversation.
MUTABLE_FIELDS = [
    f.name
    for f in Conversation._meta.concrete_fields
    if f.name not in ("id", "workspace", "channel", "kind", "thread_key", "customer", "subject", "created_at")
]
REOPEN_FROM = (Status.RESOLVED, Status.CLOSED, Status.WAITING_CUSTOMER)
URGENT_FLAGS = {"legal", "safety", "public_escalation"}
HIGH_FLAGS = {"refund", "cancel"}


@dataclass
class IngestResult:
    created: list[int] = field(default_factory=list)
    duplicates: int = 0
    echoes: int = 0
    new_conversations: int = 0

    def __iadd__(self, other: IngestResult) -> IngestResult:
        self.created += other.created
        self.duplicates += other.duplicates
        self.echoes += other.echoes
        self.new_conversations += other.new_conversations
        return self


ID_LENGTH = 300


def fit(value: str) -> str:
    """Ids longer than the column (long e-mail Message-IDs) keep a prefix and a hash, so they stay unique."""
    if len(value) <= ID_LENGTH:
        return value
    return value[: ID_LENGTH - 65] + "#" + hashlib.sha256(value.encode()).hexdigest()


def thread_key(event: InboundEvent) -> str:
    return fit(_thread_key(event))


def _thread_key(event: InboundEvent) -> str:
    """The network thread an event belongs to when no reply chain says otherwise."""
    if event.kind in (Kind.DM, Kind.CHAT):
        return f"{event.kind}:{event.thread_id or event.author_id}"
    if event.kind == Kind.COMMENT and event.thread_id:
        return f"post:{event.thread_id}"
    return f"{event.kind}:{event.thread_id or event.external_id}"


def parents(event: InboundEvent) -> list[str]:
    """External ids this event answers, nearest first: reply chains and e-mail references."""
    found = [fit(event.reply_to_id)] if event.reply_to_id else []
    return found + [fit(ref) for ref in event.references if ref and fit(ref) not in found]


def priority_for(flags: list[str]) -> int:
    if URGENT_FLAGS & set(flags):
        return Priority.URGENT
    if HIGH_FLAGS & set(flags):
        return Priority.HIGH
    return Priority.NORMAL


class Batch:
    """The lookups of one batch, loaded once and kept current as the batch creates rows."""

    def __init__(self, channel: Channel, events: list[InboundEvent]):
        self.channel = channel
        self.timeline: list[TimelineEvent] = []
        ids = {fit(e.external_id) for e in events}
        wanted = ids | {p for e in events for p in parents(e)}
        rows = dict(
            Message.objects.by_external_id(channel, wanted).values_list("external_id", "conversation_id")
        )
        self.seen = {external_id for external_id in rows if external_id in ids}
        keys = {thread_key(e) for e in events}
        self.conversations = {
            c.thread_key: c for c in Conversation.objects.filter(channel=channel, thread_key__in=keys)
        }
        by_id = {c.pk: c for c in self.conversations.values()}
        missing = set(rows.values()) - set(by_id)
        by_id.update({c.pk: c for c in Conversation.objects.filter(pk__in=missing)})
        # External id -> its conversation object; conversations made in this batch have no id yet.
        self.conversation_of_message = {
            external_id: by_id[pk] for external_id, pk in rows.items() if pk in by_id
        }
        self.new_customers: list[Customer] = []
        self.new_identities: list[CustomerIdentity] = []
        authors = {e.author_id for e in events}
        self.identities = {
            i.network_id: i
            for i in CustomerIdentity.objects.select_related("customer").filter(
                channel=channel, network_id__in=authors
            )
        }


# Listening's hook (set by the listening app): it hears a channel's comments, mentions and listening-only
# posts after their batch commits, whether or not they were new to the inbox.
_listener: Callable[[int, list[InboundEvent]], None] | None = None
HEARD_KINDS = (Kind.COMMENT, Kind.MENTION)


def set_listener(listener: Callable[[int, list[InboundEvent]], None] | None) -> None:
    global _listener
    _listener = listener


def listening_only(event: InboundEvent) -> bool:
    """A public post the bot only overhears (a channel it is in): for listening, not the inbox."""
    return isinstance(event.raw, dict) and bool(event.raw.get("listening_only"))


def storable_event(event: InboundEvent) -> InboundEvent:
    """The event with NUL and lone surrogates taken out of every text (JSON carries both, no network
    checks, and a customer's message must not be lost for one character)."""
    return replace(event, **{f.name: storable(getattr(event, f.name)) for f in fields(event)})


def ingest(channel: Channel, events: list[InboundEvent], *, now: datetime | None = None) -> IngestResult:
    """Take events from one channel into the inbox; safe to call again with the same events."""
    events = [storable_event(event) for event in events]
    result = _ingest_batch(channel, [e for e in events if not listening_only(e)], now)
    heard = [e for e in events if e.kind in HEARD_KINDS or listening_only(e)]
    if heard and _listener is not None:
        transaction.on_commit(partial(_listener, channel.pk, heard), robust=True)
    return result


def _ingest_batch(channel: Channel, events: list[InboundEvent], now: datetime | None) -> IngestResult:
    if not events:
        return IngestResult()
    try:
        with transaction.atomic(), sla.batch():
            return _ingest(channel, events, now or timezone.now())
    except IntegrityError:
        # Another worker took some of the same events at the same moment; one at a time, each event
        # is either new or a duplicate.
        result = IngestResult()
        for event in events:
            result += _ingest_one(channel, event, now)
        return result


def _ingest_one(
    channel: Channel, event: InboundEvent, now: datetime | None, attempts: int = 3
) -> IngestResult:
    """One event after a conflict. The conflict may not be this message at all but a customer or thread
    that another worker created a moment ago; that row is there now, so trying again takes the event in.
    Only a message that is really stored counts as a duplicate; otherwise the error goes up, the raw event
    stays unprocessed and is tried again, rather than dropped."""
    for attempt in range(attempts):
        try:
            with transaction.atomic(), sla.batch():
                return _ingest(channel, [event], now or timezone.now())
        except IntegrityError:
            if Message.objects.by_external_id(channel, [fit(event.external_id)]).exists():
                return IngestResult(duplicates=1)
            if attempt == attempts - 1:
                raise


def _ingest(channel: Channel, events: list[InboundEvent], now: datetime) -> IngestResult:
    # Side effects that need the batch's rows written (an automatic acknowledgement) wait for them.
    with memo.deferred() as pending:
        result = _take_in(channel, events, now)
    for function, args in pending:
        function(*args)
    if result.created:
        # The embedding pass (sentiment, then learned routing) follows in the worker, once per batch and
        # only if the batch commits; the inbox shows the fast pass meanwhile.
        from smmdesk.nlp import actions as nlp_actions

        nlp_actions.refine_later(result.created)
    return result


def _take_in(channel: Channel, events: list[InboundEvent], now: datetime) -> IngestResult:
    result = IngestResult()
    batch = Batch(channel, events)
    languages = _languages(channel)
    messages: list[Message] = []
    # Keyed by object identity: conversations made in this batch have no id until the bulk insert.
    touched: dict[int, Conversation] = {}
    # One call for the whole batch: language detection ranks many texts at once, in parallel.
    verdicts = iter(triage.classify_many([_new_text(channel, event, batch) for event in events], languages))
    for event in events:
        verdict = next(verdicts)
        if channel.account_id and event.author_id == channel.account_id:
            result.echoes += 1
            continue
        external_id = fit(event.external_id)
        if external_id in batch.seen:
            result.duplicates += 1
            continue
        batch.seen.add(external_id)
        # Every author becomes a known customer, also a second commenter under someone else's thread.
        customer = _customer(batch, event, now)
        conversation, created = _conversation(batch, event, customer, now)
        message = Message(
            workspace_id=channel.workspace_id,
            channel=channel,
            conversation=conversation,
            direction=Message.Direction.IN,
            external_id=external_id,
            reply_to_external_id=fit(event.reply_to_id),
            author_name=event.author_name[:200],
            author_external_id=event.author_id[:200],
            text=event.text,
            attachments=event.attachments,
            sent_at=event.created_at,
            received_at=now,
            language=verdict.language,
            sentiment=verdict.sentiment,
            sentiment_score=verdict.score,
            flags=list(verdict.flags),
        )
        messages.append(message)
        batch.conversation_of_message[external_id] = conversation
        _absorb(batch, conversation, verdict, created, now)
        if created:
            result.new_conversations += 1
            batch.timeline.append(
                TimelineEvent(
                    conversation=conversation,
                    kind=TimelineEvent.Kind.CREATED,
                    created_at=now,
                    detail={"kind": conversation.kind},
                )
            )
            batch.timeline += [
                TimelineEvent(
                    conversation=conversation, kind=TimelineEvent.Kind.ROUTED, created_at=now, detail=d
                )
                for d in routing.route(conversation, message, verdict)
            ]
        sla.on_inbound(conversation, now)
        touched[id(conversation)] = conversation
    # Rows are written once per batch, in bulk; a conversation with many new messages is saved once.
    Customer.objects.bulk_create(batch.new_customers)
    CustomerIdentity.objects.bulk_create(batch.new_identities)
    fresh = [c for c in touched.values() if c.pk is None]
    Conversation.objects.bulk_create(fresh)
    Message.objects.bulk_create(messages)
    TimelineEvent.objects.bulk_create(batch.timeline)
    # One UPDATE per touched conversation: a bulk_update's CASE over every field costs more than it saves.
    for conversation in touched.values():
        if conversation not in fresh:
            conversation.save(update_fields=MUTABLE_FIELDS)
    result.created = [message.pk for message in messages]
    return result


def _new_text(channel: Channel, event: InboundEvent, batch: Batch) -> str:
    """The text to triage, or "" for an event the loop will skip (an echo or one already stored), so
    nothing is classified in vain."""
    if channel.account_id and event.author_id == channel.account_id:
        return ""
    return "" if fit(event.external_id) in batch.seen else event.text


def _languages(channel: Channel) -> list[str]:
    profile = getattr(channel.workspace, "profile", None)
    return list(profile.languages) if profile is not None else []


def _conversation(
    batch: Batch, event: InboundEvent, customer: Customer, now: datetime
) -> tuple[Conversation, bool]:
    for parent in parents(event):
        conversation = batch.conversation_of_message.get(parent)
        if conversation is not None:
            return conversation, False
    key = thread_key(event)
    if key in batch.conversations:
        return batch.conversations[key], False
    conversation = Conversation(
        workspace_id=batch.channel.workspace_id,
        channel=batch.channel,
        kind=event.kind,
        thread_key=key,
        customer=customer,
        subject=_subject(event),
        created_at=now,
        updated_at=now,
    )
    batch.conversations[key] = conversation
    return conversation, True


def _subject(event: InboundEvent) -> str:
    subject = event.raw.get("subject", "") if isinstance(event.raw, dict) else ""
    return (subject or " ".join(event.text.split())[:80])[:300]


def _customer(batch: Batch, event: InboundEvent, now: datetime) -> Customer:
    identity = batch.identities.get(event.author_id)
    if identity is not None:
        return identity.customer
    customer = None
    address = event.author_id if event.kind == Kind.EMAIL and "@" in event.author_id[:254] else ""
    if address:
        # The same person writing from the same address on another mailbox is the same customer.
        customer = Customer.objects.filter(
            workspace_id=batch.channel.workspace_id, email__iexact=address
        ).first()
    if customer is None:
        customer = Customer(
            workspace_id=batch.channel.workspace_id,
            name=event.author_name[:200],
            created_at=now,
            email=address if len(address) <= 254 else "",
        )
        batch.new_customers.append(customer)
    identity = CustomerIdentity(
        customer=customer,
        channel=batch.channel,
        network_id=event.author_id[:200],
        handle=event.author_handle[:200],
        profile_url=event.author_url[:500],
    )
    batch.identities[event.author_id] = identity
    batch.new_identities.append(identity)
    return customer


def _absorb(batch: Batch, conversation: Conversation, verdict, created: bool, now: datetime) -> None:
    """What a new inbound message changes on its conversation."""
    conversation.last_inbound_at = now
    conversation.updated_at = now
    if created or not conversation.language:
        conversation.language = verdict.language
    # The latest customer message sets the mood: a thanks after a fix turns a complaint positive.
    conversation.sentiment = verdict.sentiment
    conversation.priority = max(conversation.priority, priority_for(verdict.flags))
    if conversation.status in REOPEN_FROM:
        batch.timeline.append(
            TimelineEvent(
                conversation=conversation,
                kind=TimelineEvent.Kind.STATUS,
                created_at=now,
                detail={"old": conversation.status, "new": Status.OPEN, "by": "customer"},
            )
        )
        conversation.status = Status.OPEN
        conversation.resolved_at = None
