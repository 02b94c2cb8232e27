"""Ingestion: repeated deliveries, the echo guard, threading for each kind, reopening, customers."""

import pytest
from django.core.cache import cache

from smmdesk.channels.fake.adapter import FakeNetwork
from smmdesk.inbox import actions, reply_tasks
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import Conversation, Customer, CustomerIdentity, Message, Status, TimelineEvent
from smmdesk.inbox.tests.conversations import conversation_from, event, make_channel, membership


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def channel(cast):
    return make_channel(cast.workspace)


def conversations_of(*external_ids):
    return [Message.objects.get(external_id=e).conversation_id for e in external_ids]


# --- repeated deliveries and the echo guard --------------------------------------------------------


def test_the_same_event_three_times_gives_one_message(channel):
    first = ingest(channel, [event("m-1", thread="chat-1")])
    second = ingest(channel, [event("m-1", thread="chat-1")])
    third = ingest(channel, [event("m-1", thread="chat-1")])
    assert len(first.created) == 1 and first.new_conversations == 1
    assert (second.created, second.duplicates, third.created, third.duplicates) == ([], 1, [], 1)
    assert Message.objects.count() == 1 and Conversation.objects.count() == 1
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CREATED).count() == 1


def test_the_same_event_three_times_in_one_batch(channel):
    result = ingest(channel, [event("m-1", thread="chat-1")] * 3)
    assert (len(result.created), result.duplicates) == (1, 2)
    assert Message.objects.count() == 1


def test_our_own_messages_are_not_taken_in(channel):
    result = ingest(channel, [event("m-9", thread="chat-1", author="salon-vk", name="Salon")])
    assert result.echoes == 1 and not Message.objects.exists() and not Conversation.objects.exists()


def test_a_reply_we_sent_coming_back_is_a_duplicate(cast, channel, django_capture_on_commit_callbacks):
    convo = conversation_from(channel, event("m-1", thread="chat-1"))
    with django_capture_on_commit_callbacks():
        ours = actions.reply(convo, membership(cast.users["agent"], cast.workspace), "We are open.")
    reply_tasks.deliver(ours.pk)
    ours.refresh_from_db()
    # The network echoes our reply under its id, even with an author id we did not recognise.
    echo = event(ours.external_id, thread="chat-1", author="salon-vk-bot", name="Salon", text="We are open.")
    result = ingest(channel, [echo])
    assert result.duplicates == 1 and result.created == []
    assert Message.objects.filter(direction=Message.Direction.IN).count() == 1


# --- threading ----------------------------------------------------------------------------------------


def test_direct_messages_thread_by_chat(channel):
    ingest(
        channel,
        [
            event("d-1", thread="chat-1", author="u1"),
            event("d-2", thread="chat-2", author="u2"),
            event("d-3", thread="chat-1", author="u1"),
        ],
    )
    ingest(channel, [event("d-4", thread="chat-1", author="u1")])
    a, b, c, d = conversations_of("d-1", "d-2", "d-3", "d-4")
    assert a == c == d and a != b
    assert Conversation.objects.get(pk=a).kind == "dm"


def test_direct_messages_without_a_chat_id_thread_by_author(channel):
    ingest(channel, [event("d-1", author="u1"), event("d-2", author="u1"), event("d-3", author="u2")])
    a, b, c = conversations_of("d-1", "d-2", "d-3")
    assert a == b != c


def test_comments_under_one_post_are_one_conversation(channel):
    ingest(
        channel,
        [
            event("c-1", "comment", thread="post-1", author="u1"),
            event("c-2", "comment", thread="post-1", author="u2"),
            event("c-3", "comment", thread="post-2", author="u1"),
        ],
    )
    # A reply to a comment joins its thread, even when the network leaves the post out.
    ingest(channel, [event("c-4", "comment", reply_to="c-2", author="u3")])
    a, b, c, d = conversations_of("c-1", "c-2", "c-3", "c-4")
    assert a == b == d and a != c
    assert Conversation.objects.get(pk=a).thread_key == "post:post-1"


def test_mentions(channel):
    ingest(channel, [event("t-1", "mention", author="u1"), event("t-2", "mention", author="u2")])
    ingest(channel, [event("t-3", "mention", author="u1", reply_to="t-1")])
    a, b, c = conversations_of("t-1", "t-2", "t-3")
    assert a == c != b


def test_e_mail_threads_by_references(cast):
    mailbox = make_channel(cast.workspace, "Mailbox", "salon-mail")
    first = event("<a1@mail.example>", "email", author="anna@mail.example", subject="Booking on Friday")
    ingest(mailbox, [first])
    by_reply = event(
        "<a2@mail.example>",
        "email",
        author="anna@mail.example",
        reply_to="<a1@mail.example>",
        subject="Re: Booking",
    )
    # A client that keeps only References (and an unknown message in between) still joins.
    by_references = event(
        "<a3@mail.example>",
        "email",
        author="anna@mail.example",
        references=["<lost@mail.example>", "<a2@mail.example>"],
        subject="Re: Re: Booking",
    )
    new_subject = event("<b1@mail.example>", "email", author="anna@mail.example", subject="Gift cards?")
    ingest(mailbox, [by_reply, by_references, new_subject])
    a, b, c, d = conversations_of(*(e.external_id for e in (first, by_reply, by_references, new_subject)))
    assert a == b == c != d
    assert Conversation.objects.get(pk=a).subject == "Booking on Friday"
    assert Conversation.objects.get(pk=d).subject == "Gift cards?"


def test_e_mail_answering_our_reply_joins(cast, django_capture_on_commit_callbacks):
    mailbox = make_channel(cast.workspace, "Mailbox", "salon-mail")
    convo = conversation_from(mailbox, event("<a1@mail.example>", "email", author="anna@mail.example"))
    with django_capture_on_commit_callbacks():
        ours = actions.reply(convo, membership(cast.users["agent"], cast.workspace), "Friday 15:00 is free.")
    reply_tasks.deliver(ours.pk)
    ours.refresh_from_db()
    answer = event("<a2@mail.example>", "email", author="anna@mail.example", reply_to=ours.external_id)
    assert conversation_from(mailbox, answer).pk == convo.pk


def test_site_chat_threads_by_visitor_session(cast):
    widget = make_channel(cast.workspace, "Site chat", "salon-chat")
    ingest(
        widget,
        [
            event("w-1", "chat", thread="visitor-abc", author="visitor-abc"),
            event("w-2", "chat", thread="visitor-xyz", author="visitor-xyz"),
            event("w-3", "chat", thread="visitor-abc", author="visitor-abc"),
        ],
    )
    a, b, c = conversations_of("w-1", "w-2", "w-3")
    assert a == c != b and Conversation.objects.get(pk=a).kind == "chat"


# --- status and customers --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED, Status.WAITING_CUSTOMER])
def test_a_new_message_reopens(cast, channel, status):
    convo = conversation_from(channel, event("m-1", thread="chat-1"))
    convo = actions.set_status(convo, Status.RESOLVED, membership(cast.users["agent"], cast.workspace))
    Conversation.objects.filter(pk=convo.pk).update(status=status)
    ingest(channel, [event("m-2", thread="chat-1", text="It happened again")])
    convo.refresh_from_db()
    assert convo.status == Status.OPEN and convo.resolved_at is None
    step = TimelineEvent.objects.filter(conversation=convo, kind=TimelineEvent.Kind.STATUS).last()
    assert step.detail == {"old": status, "new": "open", "by": "customer"} and step.actor is None
    assert convo.due_at is not None  # the SLA clock runs again


def test_the_same_author_is_one_customer(channel):
    ingest(
        channel,
        [event("d-1", thread="chat-1", author="u1"), event("c-1", "comment", thread="post-1", author="u1")],
    )
    assert Customer.objects.count() == 1 and CustomerIdentity.objects.count() == 1
    a, b = conversations_of("d-1", "c-1")
    assert a != b
    assert Conversation.objects.get(pk=a).customer_id == Conversation.objects.get(pk=b).customer_id


def test_one_address_on_two_mailboxes_is_one_customer_with_its_history(cast):
    shop = make_channel(cast.workspace, "Shop mail", "shop-mail")
    salon = make_channel(cast.workspace, "Salon mail", "salon-mail")
    ingest(shop, [event("<s1@x>", "email", author="Anna@Mail.example")])
    ingest(salon, [event("<s2@x>", "email", author="anna@mail.example")])
    customer = Customer.objects.get()
    assert customer.identities.count() == 2
    history = Conversation.objects.filter(customer=customer)
    assert {c.channel_id for c in history} == {shop.pk, salon.pk}


def test_other_workspaces_do_not_share_customers(cast):
    ours = make_channel(cast.workspace, "Mail", "salon-mail")
    theirs = make_channel(cast.other, "Mail", "rival-mail")
    ingest(ours, [event("<s1@x>", "email", author="anna@mail.example")])
    ingest(theirs, [event("<r1@x>", "email", author="anna@mail.example")])
    assert Customer.objects.count() == 2


def test_polled_events_are_ingested_once(channel):
    FakeNetwork.account("salon-vk").inbound.extend(
        [event("p-1", thread="chat-1"), event("p-2", thread="chat-1")]
    )
    events, cursor = channel.adapter().poll(None)
    ingest(channel, events)
    ingest(channel, events)
    assert Message.objects.count() == 2 and cursor == "2"


def test_every_commenter_in_a_thread_is_a_known_customer(channel):
    ingest(
        channel,
        [
            event("c-1", "comment", thread="post-1", author="u1"),
            event("c-2", "comment", thread="post-1", author="u2"),
        ],
    )
    assert CustomerIdentity.objects.filter(channel=channel, network_id="u2").exists()


def test_long_ids_fit_and_stay_unique(channel):
    long_a = "<" + "a" * 400 + "@mail.example>"
    long_b = "<" + "a" * 400 + "@other.example>"
    ingest(
        channel,
        [
            event(long_a, "email", author="anna@example.com"),
            event(long_b, "email", author="anna@example.com"),
        ],
    )
    ids = list(Message.objects.values_list("external_id", flat=True))
    assert len(ids) == 2 and len(set(ids)) == 2 and all(len(i) <= 300 for i in ids)
    ingest(channel, [event(long_a, "email", author="anna@example.com")])
    assert Message.objects.count() == 2


# --- conflicts with another worker -------------------------------------------------------------------


def _conflicting(monkeypatch, times):
    """The first `times` calls of the batch step fail as if another worker had just inserted the same
    customer or thread; later calls run as usual."""
    from django.db import IntegrityError

    from smmdesk.inbox import ingest as module

    real, calls = module._ingest, []

    def step(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise IntegrityError("duplicate key value violates unique constraint one_conversation_per_thread")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "_ingest", step)
    return calls


def test_a_conflict_over_a_thread_is_tried_again_not_counted_as_a_duplicate(channel, monkeypatch):
    # The batch and the first one-by-one try of m-1 conflict; nothing of ours is stored yet.
    _conflicting(monkeypatch, times=2)
    result = ingest(channel, [event("m-1", thread="chat-9"), event("m-2", thread="chat-9")])
    assert (len(result.created), result.duplicates) == (2, 0)
    assert set(Message.objects.values_list("external_id", flat=True)) == {"m-1", "m-2"}


def test_a_conflict_that_persists_is_raised_so_the_delivery_is_retried(channel, monkeypatch):
    from django.db import IntegrityError

    _conflicting(monkeypatch, times=10)
    with pytest.raises(IntegrityError):
        ingest(channel, [event("m-1", thread="chat-9")])
    assert not Message.objects.exists()


def test_a_conflict_over_a_message_already_stored_is_a_duplicate(channel, monkeypatch):
    ingest(channel, [event("m-1", thread="chat-9")])
    _conflicting(monkeypatch, times=10)
    result = ingest(channel, [event("m-1", thread="chat-9")])
    assert (result.created, result.duplicates) == ([], 1)


@pytest.mark.django_db
def test_lookups_by_external_id_and_idempotency_key_use_their_indexes():
    """On SQLite a partial unique index serves a query only when the query repeats its condition; these
    lookups run for every delivery and every after-hours acknowledgement, so a scan would grow with the
    inbox."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL infers the condition itself")
    queries = [
        Message.objects.by_external_id(1, ["a", "b"]).values_list("external_id", "conversation_id"),
        Message.objects.by_idempotency_key("autoack:1:20261126T0400Z").values("pk"),
    ]
    with connection.cursor() as cursor:
        for query in queries:
            sql, params = query.query.sql_with_params()
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "SCAN inbox_message" not in plan, plan
            assert "one_message_per_" in plan, plan
