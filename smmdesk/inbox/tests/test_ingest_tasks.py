"""Background intake: stored webhook bodies and polling, each safe to run again."""

import hashlib
import hmac
import json

import pytest
from django.core.cache import cache
from huey.contrib.djhuey import HUEY

from smmdesk.channels import actions as channel_actions
from smmdesk.channels import health
from smmdesk.channels.base import AdapterError
from smmdesk.channels.fake.adapter import FakeAdapter, FakeNetwork
from smmdesk.channels.models import Channel
from smmdesk.inbox import ingest_tasks
from smmdesk.inbox.models import Message, Notification, RawEvent
from smmdesk.inbox.tests.conversations import WEBHOOK_SECRET, event, make_channel


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def channel(cast):
    return make_channel(cast.workspace)


def raw_event(channel, items, secret=WEBHOOK_SECRET, header="x-fake-signature"):
    body = json.dumps(items).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return RawEvent.objects.create(channel=channel, body=body, headers={header: signature})


ITEMS = [
    {
        "id": "w-1",
        "kind": "dm",
        "from": "u1",
        "name": "Anna",
        "text": "Hi",
        "date": "2025-03-10T09:00:00+00:00",
    },
    {
        "id": "w-2",
        "kind": "comment",
        "from": "u2",
        "text": "Price?",
        "thread": "post-1",
        "date": "2025-03-10T09:01:00+00:00",
    },
]


def test_a_webhook_body_becomes_messages_once(channel):
    raw = raw_event(channel, ITEMS)
    result = ingest_tasks.process_raw_event_task.call_local(raw.pk)
    raw.refresh_from_db()
    assert raw.processed_at is not None and raw.error == ""
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["w-1", "w-2"]
    assert result is None  # the task returns nothing; the work is in the rows
    # Processed again (a retried task), or the same body delivered twice more: still two messages.
    ingest_tasks.process_raw_event(raw.pk)
    for _ in range(2):
        again = raw_event(channel, ITEMS)
        ingest_tasks.process_raw_event(again.pk)
    assert Message.objects.count() == 2
    assert RawEvent.objects.filter(processed_at__isnull=True).count() == 0


def dm(n: int, thread: str = "chat-1") -> dict:
    return {
        "id": f"b-{n}",
        "kind": "dm",
        "from": thread,
        "text": f"Message {n}",
        "thread": thread,
        "date": f"2025-03-10T09:{n:02d}:00+00:00",
    }


def test_waiting_bodies_of_a_channel_are_taken_in_together(cast, channel, django_assert_max_num_queries):
    other = make_channel(cast.workspace, name="Other", account_id="other-vk")
    raws = [raw_event(channel, [dm(n)]) for n in range(20)]
    elsewhere = raw_event(other, [dm(99)])
    # Twenty bodies for the price of a few: the lookups of one batch, not of twenty.
    with django_assert_max_num_queries(40):
        result = ingest_tasks.process_raw_event(raws[0].pk)
    assert len(result.created) == 20
    assert RawEvent.objects.filter(pk__in=[r.pk for r in raws], processed_at__isnull=True).count() == 0
    # The other bodies' own tasks, run later, find nothing left to do; the other channel's body waits.
    assert all(ingest_tasks.process_raw_event(r.pk) is None for r in raws[1:])
    assert Message.objects.filter(channel=channel).count() == 20
    assert RawEvent.objects.get(pk=elsewhere.pk).processed_at is None


def test_a_batch_stops_at_its_size_and_never_takes_earlier_bodies(channel):
    raws = [raw_event(channel, [dm(n)]) for n in range(7)]
    result = ingest_tasks.process_raw_event(raws[2].pk, batch=3)
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["b-2", "b-3", "b-4"]
    assert len(result.created) == 3
    waiting = RawEvent.objects.filter(processed_at__isnull=True).order_by("pk")
    assert [r.pk for r in waiting] == [raws[i].pk for i in (0, 1, 5, 6)]


def test_a_bad_body_in_a_batch_is_refused_alone(channel):
    good = raw_event(channel, [dm(1)])
    forged = raw_event(channel, [dm(2)], secret="not-the-secret")
    later = raw_event(channel, [dm(3)])
    ingest_tasks.process_raw_event(good.pk)
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["b-1", "b-3"]
    forged.refresh_from_db()
    later.refresh_from_db()
    assert forged.error == "bad webhook signature" and forged.processed_at is not None
    assert later.error == "" and later.processed_at is not None


def test_a_batch_that_fails_leaves_each_body_to_its_own_task(channel, monkeypatch):
    """A body that breaks ingestion (a bug, say) must not hold back those that came with it."""
    raws = [raw_event(channel, [dm(n)]) for n in range(3)]
    real_ingest = ingest_tasks.ingest

    def breaks_on_b1(ch, events):
        if any(e.external_id == "b-1" for e in events):
            raise RuntimeError("cannot take b-1")
        return real_ingest(ch, events)

    monkeypatch.setattr(ingest_tasks, "ingest", breaks_on_b1)
    result = ingest_tasks.process_raw_event(raws[0].pk)  # the batch fails; b-0 is taken in alone
    assert [m for m in Message.objects.values_list("external_id", flat=True)] == ["b-0"]
    assert len(result.created) == 1
    with pytest.raises(RuntimeError):
        ingest_tasks.process_raw_event(raws[1].pk)  # the bad one fails, and stays for the queue's retry
    assert RawEvent.objects.get(pk=raws[1].pk).processed_at is None
    ingest_tasks.process_raw_event(raws[2].pk)
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["b-0", "b-2"]


@pytest.mark.django_db
def test_waiting_bodies_are_found_by_their_index():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL plans by its statistics; a test table is too small to choose the index")
    query = RawEvent.objects.filter(channel=1, processed_at__isnull=True, pk__gte=5).order_by("pk")[:50]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "inbox_rawevent_waiting" in plan, plan


def test_a_bad_signature_is_recorded_not_ingested(channel):
    raw = raw_event(channel, ITEMS, secret="not-the-secret")
    assert ingest_tasks.process_raw_event(raw.pk) is None
    raw.refresh_from_db()
    assert raw.processed_at is not None and raw.error == "bad webhook signature"
    assert not Message.objects.exists()


def test_a_malformed_body_is_recorded(channel):
    body = b"{not json"
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    raw = RawEvent.objects.create(channel=channel, body=body, headers={"X-Fake-Signature": signature})
    ingest_tasks.process_raw_event(raw.pk)
    raw.refresh_from_db()
    assert raw.processed_at is not None and raw.error.startswith("malformed webhook body")


def test_a_missing_raw_event_is_nothing_to_do(db):
    assert ingest_tasks.process_raw_event(12345) is None


def test_polling_reads_from_the_cursor(channel):
    account = FakeNetwork.account("salon-vk")
    account.inbound.extend(event(f"p-{n}", thread="chat-1") for n in range(250))
    result = ingest_tasks.poll_channel(channel.pk)
    assert len(result.created) == 250 and Message.objects.count() == 250
    assert Channel.objects.get(pk=channel.pk).cursor == "250"

    account.inbound.append(event("p-new", thread="chat-2"))
    result = ingest_tasks.poll_channel(channel.pk)
    assert len(result.created) == 1 and result.duplicates == 0

    # A lost cursor reads everything again; nothing is taken in twice.
    Channel.objects.filter(pk=channel.pk).update(cursor="")
    result = ingest_tasks.poll_channel(channel.pk)
    assert result.created == [] and result.duplicates == 251


def test_polling_a_revoked_channel_marks_it(channel, django_capture_on_commit_callbacks):
    FakeNetwork.account("salon-vk").revoked = True
    with django_capture_on_commit_callbacks(execute=True):
        ingest_tasks.poll_channel(channel.pk)
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEEDS_RECONNECT and "revoked" in channel.last_error
    # The owner hears of it at once, in the app (and by e-mail), once.
    notices = Notification.objects.filter(kind="channel", membership__role="owner")
    assert notices.count() == 1 and channel.name in notices.get().text
    with django_capture_on_commit_callbacks(execute=True):
        health.record_failure(channel, AdapterError("401 again", reconnect=True))
    assert notices.count() == 1
    # Reconnected, then broken again: that is news.
    Channel.objects.filter(pk=channel.pk).update(status=Channel.Status.OK)
    with django_capture_on_commit_callbacks(execute=True):
        ingest_tasks.poll_channel(channel.pk)
    assert notices.count() == 2
    # It is left alone until someone reconnects it.
    assert channel.pk not in ingest_tasks.channels_to_poll()


def test_a_failing_poll_keeps_the_cursor(channel, monkeypatch):
    FakeNetwork.account("salon-vk").inbound.append(event("p-1", thread="chat-1"))
    ingest_tasks.poll_channel(channel.pk)
    monkeypatch.setattr(
        FakeAdapter, "poll", lambda self, cursor: (_ for _ in ()).throw(AdapterError("HTTP 502"))
    )
    ingest_tasks.poll_channel(channel.pk)
    assert Channel.objects.get(pk=channel.pk).cursor == "1"
    assert Channel.objects.get(pk=channel.pk).status == Channel.Status.OK


def test_one_poll_at_a_time_per_channel(channel):
    FakeNetwork.account("salon-vk").inbound.append(event("p-1", thread="chat-1"))
    cache.add(f"inbox:poll-lock:{channel.pk}", 1)
    assert ingest_tasks.poll_channel(channel.pk).created == []
    cache.delete(f"inbox:poll-lock:{channel.pk}")
    assert len(ingest_tasks.poll_channel(channel.pk).created) == 1


def test_periodic_poll_queues_enabled_inbox_channels(cast, channel):
    disabled = make_channel(cast.workspace, "Old group", "old-vk")
    channel_actions.set_enabled(disabled, False)
    FakeNetwork.account("salon-vk").inbound.append(event("p-1", thread="chat-1"))
    FakeNetwork.account("old-vk").inbound.append(event("o-1", thread="chat-1"))
    assert ingest_tasks.channels_to_poll() == [channel.pk]
    HUEY.immediate = True
    try:
        ingest_tasks.poll_channels.call_local()
    finally:
        HUEY.immediate = False
    assert list(Message.objects.values_list("external_id", flat=True)) == ["p-1"]


def test_stranded_webhook_bodies_are_queued_again(channel, time_machine):
    time_machine.move_to("2026-11-26 10:00:00+00:00", tick=False)
    raw = raw_event(channel, ITEMS)
    fresh_enough = ingest_tasks.stranded_raw_events()
    assert fresh_enough == []  # its own task may still be on the way
    time_machine.move_to("2026-11-26 10:03:00+00:00", tick=False)
    assert ingest_tasks.stranded_raw_events() == [raw.pk]
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True  # the re-queued task runs at once, in this test's transaction
    try:
        ingest_tasks.requeue_stranded_raw_events.call_local()
    finally:
        HUEY.immediate = False
    raw.refresh_from_db()
    assert raw.processed_at is not None
    assert Message.objects.count() == 2 and ingest_tasks.stranded_raw_events() == []
