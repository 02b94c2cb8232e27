"""Replies through the adapter (once, with retries and a visible failure), notes with @mentions,
assignment, status and priority."""

from types import SimpleNamespace

import pytest
from django.core.cache import cache
from huey.exceptions import RetryTask

from smmdesk.channels import actions as channel_actions
from smmdesk.channels.base import AdapterError
from smmdesk.channels.fake.adapter import FakeAdapter, FakeNetwork
from smmdesk.channels.models import Channel
from smmdesk.inbox import actions, reply_tasks
from smmdesk.inbox.actions import InboxError
from smmdesk.inbox.models import Message, Notification, Priority, Status, TimelineEvent
from smmdesk.inbox.tests.conversations import conversation_from, event, make_channel, membership

Delivery = Message.Delivery


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def channel(cast):
    return make_channel(cast.workspace)


@pytest.fixture
def convo(channel):
    return conversation_from(channel, event("in-1", thread="chat-1"))


@pytest.fixture
def member(cast):
    return lambda role: membership(cast.users[role], cast.workspace)


def queue_reply(convo, author, text, capture):
    with capture() as callbacks:
        message = actions.reply(convo, author, text)
    return message, callbacks


def test_reply_queues_and_sends_exactly_once(convo, member, django_capture_on_commit_callbacks):
    agent = member("agent")
    message, callbacks = queue_reply(
        convo, agent, "  We are open 10–18 on Sunday.  ", django_capture_on_commit_callbacks
    )
    assert len(callbacks) == 1
    assert message.direction == Message.Direction.OUT and message.delivery == Delivery.PENDING
    assert message.text == "We are open 10–18 on Sunday." and message.author == agent
    assert message.author_name == "Agent" and len(message.idempotency_key) == 32
    convo.refresh_from_db()
    assert convo.status == Status.OPEN and convo.last_outbound_at is not None
    assert convo.first_response_at is not None  # sla.on_reply stopped the first-response clock
    step = TimelineEvent.objects.get(conversation=convo, kind=TimelineEvent.Kind.STATUS)
    assert step.actor == agent and step.detail == {"old": "new", "new": "open"}

    # The task may run twice (crash, retry): the network gets the reply once.
    assert reply_tasks.send_reply_task.call_local(message.pk) == "sent"
    assert reply_tasks.send_reply_task.call_local(message.pk) == "skipped"
    replies = FakeNetwork.account("salon-vk").replies
    assert list(replies) == [message.idempotency_key]
    sent = replies[message.idempotency_key]
    assert (sent.text, sent.thread_id, sent.recipient_id, sent.reply_to_id) == (
        "We are open 10–18 on Sunday.",
        "chat-1",
        "cust-1",
        "in-1",
    )
    message.refresh_from_db()
    assert message.delivery == Delivery.SENT and message.external_id == f"reply-{message.idempotency_key}"
    assert message.sent_at is not None and message.attempts == 1


def test_commit_enqueues_the_send(convo, member, django_capture_on_commit_callbacks, settings):
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = actions.reply(convo, member("agent"), "Hello!")
    finally:
        HUEY.immediate = False
    message.refresh_from_db()
    assert message.delivery == Delivery.SENT
    assert len(FakeNetwork.account("salon-vk").replies) == 1


def test_comment_reply_goes_under_the_post_and_the_comment(
    channel, member, django_capture_on_commit_callbacks
):
    convo = conversation_from(
        channel, event("c-1", "comment", thread="post-7"), event("c-2", "comment", thread="post-7")
    )
    message, _ = queue_reply(convo, member("smm_manager"), "Thanks!", django_capture_on_commit_callbacks)
    reply_tasks.deliver(message.pk)
    sent = FakeNetwork.account("salon-vk").replies[message.idempotency_key]
    assert (sent.thread_id, sent.reply_to_id) == ("post-7", "c-2")


def test_an_external_id_on_record_is_never_sent_again(convo, member, django_capture_on_commit_callbacks):
    message, _ = queue_reply(convo, member("agent"), "Hi", django_capture_on_commit_callbacks)
    Message.objects.filter(pk=message.pk).update(external_id="already-there")
    assert reply_tasks.deliver(message.pk) == "skipped"
    assert FakeNetwork.account("salon-vk").replies == {}


def test_a_second_run_during_the_send_does_not_send(
    convo, member, django_capture_on_commit_callbacks, monkeypatch
):
    message, _ = queue_reply(convo, member("agent"), "Hi", django_capture_on_commit_callbacks)
    inner = []
    original = FakeAdapter.send_reply

    def send_and_race(self, reply):
        inner.append(reply_tasks.deliver(message.pk))
        return original(self, reply)

    monkeypatch.setattr(FakeAdapter, "send_reply", send_and_race)
    assert reply_tasks.deliver(message.pk) == "sent"
    assert inner == ["skipped"]


@pytest.mark.parametrize(
    ("text", "field"),
    [("", "text"), ("   \n ", "text"), ("x" * 2001, "text"), (None, "text")],
)
def test_reply_refuses_bad_text(convo, member, text, field):
    with pytest.raises(InboxError) as error:
        actions.reply(convo, member("agent"), text)
    assert error.value.field == field
    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()


def test_reply_at_the_limit_is_accepted(convo, member):
    assert len(actions.reply(convo, member("agent"), "x" * 2000).text) == 2000


def test_reply_refuses_a_disabled_channel_and_an_outsider(cast, convo, channel, member):
    outsider = membership(cast.outsider, cast.other)
    with pytest.raises(InboxError):
        actions.reply(convo, outsider, "Hi")
    channel_actions.set_enabled(channel, False)
    convo.refresh_from_db()
    with pytest.raises(InboxError) as error:
        actions.reply(convo, member("agent"), "Hi")
    assert "disabled" in error.value.message
    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()


def test_revoked_token_fails_with_its_reason_and_retry_sends(
    convo, member, django_capture_on_commit_callbacks
):
    agent = member("agent")
    message, _ = queue_reply(convo, agent, "Sorry for the wait", django_capture_on_commit_callbacks)
    FakeNetwork.account("salon-vk").revoked = True
    assert reply_tasks.send_reply_task.call_local(message.pk) == "failed"
    message.refresh_from_db()
    assert message.delivery == Delivery.FAILED and message.delivery_error == "the access token was revoked"
    failed = TimelineEvent.objects.get(conversation=convo, kind=TimelineEvent.Kind.REPLY_FAILED)
    assert failed.detail == {"message": message.pk, "reason": "the access token was revoked"}
    assert Channel.objects.get(pk=convo.channel_id).status == Channel.Status.NEEDS_RECONNECT
    assert Notification.objects.filter(membership=agent, kind="reply_failed").count() == 1

    FakeNetwork.account("salon-vk").revoked = False
    with django_capture_on_commit_callbacks() as callbacks:
        retried = actions.retry_reply(message, agent)
    assert retried.delivery == Delivery.PENDING and retried.delivery_error == "" and len(callbacks) == 1
    assert reply_tasks.send_reply_task.call_local(message.pk) == "sent"
    assert list(FakeNetwork.account("salon-vk").replies) == [message.idempotency_key]
    with pytest.raises(InboxError):
        actions.retry_reply(message, agent)  # sent: nothing to retry


def test_a_revoked_token_found_by_a_reply_tells_the_owners_once(
    convo, member, cast, django_capture_on_commit_callbacks
):
    FakeNetwork.account("salon-vk").revoked = True
    for text in ("Sorry for the wait", "Are you still there?"):
        message, _ = queue_reply(convo, member("agent"), text, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            assert reply_tasks.send_reply_task.call_local(message.pk) == "failed"
    owner = membership(cast.users["owner"], cast.workspace)
    alerts = Notification.objects.filter(
        kind="channel", key__startswith=f"channel-reconnect:{convo.channel_id}:"
    )
    assert list(alerts.values_list("membership", flat=True)) == [owner.pk]
    assert "needs reconnecting" in alerts.get().text


def test_failure_reason_never_shows_the_token(convo, member, django_capture_on_commit_callbacks, monkeypatch):
    from smmdesk.inbox.tests.conversations import TOKEN

    def leaky(self, reply):
        raise AdapterError(f"401 for https://api.example/send?access_token={TOKEN}", reconnect=True)

    monkeypatch.setattr(FakeAdapter, "send_reply", leaky)
    message, _ = queue_reply(convo, member("agent"), "Hi", django_capture_on_commit_callbacks)
    reply_tasks.deliver(message.pk)
    message.refresh_from_db()
    assert message.delivery == Delivery.FAILED and TOKEN not in message.delivery_error
    assert "***" in message.delivery_error


def test_transient_errors_are_retried_with_backoff_then_fail(
    convo, member, django_capture_on_commit_callbacks, monkeypatch
):
    def busy(self, reply):
        raise AdapterError("HTTP 503 Service Unavailable", retry_after=90)

    monkeypatch.setattr(FakeAdapter, "send_reply", busy)
    message, _ = queue_reply(convo, member("agent"), "Hi", django_capture_on_commit_callbacks)

    task = SimpleNamespace(retries=5)
    with pytest.raises(RetryTask) as retry:
        reply_tasks.send_reply_task.call_local(message.pk, task=task)
    # The network asked for 90 s; that beats the first backoff step of 30 s. One retry is used up.
    assert retry.value.delay == 90 and task.retries == 4
    message.refresh_from_db()
    assert message.delivery == Delivery.PENDING and message.delivery_error == "HTTP 503 Service Unavailable"

    task.retries = 1
    with pytest.raises(RetryTask):
        reply_tasks.send_reply_task.call_local(message.pk, task=task)
    assert reply_tasks.retry_delay(5, None) == 480 and reply_tasks.retry_delay(9, None) == 3600

    # Retries exhausted: the reply fails, with its reason, and can be retried by hand.
    assert reply_tasks.send_reply_task.call_local(message.pk, task=SimpleNamespace(retries=0)) == "failed"
    message.refresh_from_db()
    assert message.delivery == Delivery.FAILED and message.attempts == 3
    assert message.delivery_error == "HTTP 503 Service Unavailable"


def test_huey_schedules_the_retry(convo, member, django_capture_on_commit_callbacks, monkeypatch):
    from huey.contrib.djhuey import HUEY

    monkeypatch.setattr(
        FakeAdapter, "send_reply", lambda self, reply: (_ for _ in ()).throw(AdapterError("timeout"))
    )
    message, _ = queue_reply(convo, member("agent"), "Hi", django_capture_on_commit_callbacks)
    HUEY.immediate = True
    try:
        reply_tasks.send_reply_task(message.pk)
        scheduled = HUEY.scheduled()
        assert len(scheduled) == 1 and scheduled[0].retries == reply_tasks.SEND_RETRIES - 1
    finally:
        HUEY.immediate = False
    message.refresh_from_db()
    assert message.delivery == Delivery.PENDING and message.attempts == 1


def test_permanent_error_fails_at_once(convo, member, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(
        FakeAdapter,
        "send_reply",
        lambda self, reply: (_ for _ in ()).throw(AdapterError("message too long", permanent=True)),
    )
    message, _ = queue_reply(convo, member("agent"), "Hi", django_capture_on_commit_callbacks)
    assert reply_tasks.send_reply_task.call_local(message.pk, task=SimpleNamespace(retries=5)) == "failed"


def test_a_disabled_channel_fails_the_queued_reply(
    convo, channel, member, django_capture_on_commit_callbacks
):
    message, _ = queue_reply(convo, member("agent"), "Hi", django_capture_on_commit_callbacks)
    channel_actions.set_enabled(channel, False)
    assert reply_tasks.deliver(message.pk) == "failed"
    assert Message.objects.get(pk=message.pk).delivery_error == "The channel is disabled."


# --- notes ------------------------------------------------------------------------------------------


def test_note_mentions_notify_the_members_named(cast, convo, member):
    author = member("smm_manager")
    note = actions.add_note(
        convo,
        author,
        "@agent please call her back; cc @ContentManager, @owner@salon.example and @SMMManager. "
        "Her mail is anna@example.com, @nobody here.",
    )
    assert note.direction == Message.Direction.NOTE and note.delivery == Delivery.RECEIVED
    notified = Notification.objects.filter(kind="mention", key=f"mention:{note.pk}")
    roles = sorted(n.membership.role for n in notified)
    # The author mentioning themself is not notified; anna@example.com is an address, not a mention.
    assert roles == ["agent", "content_manager", "owner"]
    assert "please call her back" in notified.first().text
    assert FakeNetwork.account("salon-vk").replies == {}


def test_mentions_match_local_part_and_name_ignoring_case(cast):
    found = actions.mentioned(cast.workspace.pk, "Hi @VIEWER and @smm_manager.")
    assert sorted(m.role for m in found) == ["smm_manager", "viewer"]
    assert actions.mentioned(cast.workspace.pk, "no mentions, a@b.c") == []
    # Members of another workspace are never matched.
    assert actions.mentioned(cast.workspace.pk, "@owner@rival.example") == []


def test_empty_note_is_refused(convo, member):
    with pytest.raises(InboxError) as error:
        actions.add_note(convo, member("agent"), "  ")
    assert error.value.field == "text"


# --- assignment, status, priority -------------------------------------------------------------------


def test_assign_records_who_and_notifies(cast, convo, member):
    manager, agent = member("smm_manager"), member("agent")
    convo = actions.assign(convo, agent, manager)
    assert convo.assignee == agent
    step = TimelineEvent.objects.get(conversation=convo, kind=TimelineEvent.Kind.ASSIGNED)
    assert step.actor == manager and step.detail["new"] == agent.pk and step.detail["new_name"] == "Agent"
    assert Notification.objects.filter(membership=agent, kind="assigned").count() == 1
    convo = actions.assign(convo, None, manager)
    assert convo.assignee is None
    assert TimelineEvent.objects.filter(conversation=convo, kind=TimelineEvent.Kind.ASSIGNED).count() == 2


def test_assign_refuses_outsiders_and_read_only_roles(cast, convo, member):
    with pytest.raises(InboxError) as error:
        actions.assign(convo, membership(cast.outsider, cast.other), member("owner"))
    assert error.value.field == "assignee"
    with pytest.raises(InboxError) as error:
        actions.assign(convo, member("viewer"), member("owner"))
    assert error.value.field == "assignee"


def test_status_transitions(convo, member):
    agent = member("agent")
    convo = actions.set_status(convo, Status.RESOLVED, agent)
    assert convo.status == Status.RESOLVED and convo.resolved_at is not None and convo.due_at is None
    step = TimelineEvent.objects.filter(conversation=convo, kind=TimelineEvent.Kind.STATUS).last()
    assert step.actor == agent and step.detail == {"old": "new", "new": "resolved"}
    with pytest.raises(InboxError) as error:
        actions.set_status(convo, Status.WAITING_CUSTOMER, agent)
    assert error.value.field == "status"
    convo = actions.set_status(convo, Status.CLOSED, agent)
    convo = actions.set_status(convo, Status.OPEN, agent)
    assert convo.status == Status.OPEN and convo.resolved_at is None
    for bad in ("bogus", Status.NEW):
        with pytest.raises(InboxError) as error:
            actions.set_status(convo, bad, agent)
        assert error.value.field == "status"
    with pytest.raises(InboxError) as error:
        actions.set_status(convo, Status.WAITING_DEPARTMENT, agent)  # no department yet
    assert error.value.field == "status"


def test_waiting_on_customer_pauses_the_clock(convo, member):
    convo = actions.set_status(convo, Status.WAITING_CUSTOMER, member("agent"))
    assert convo.sla_paused_at is not None
    convo = actions.set_status(convo, Status.OPEN, member("agent"))
    assert convo.sla_paused_at is None


def test_set_priority(convo, member):
    convo = actions.set_priority(convo, "3", member("smm_manager"))
    assert convo.priority == Priority.URGENT
    step = TimelineEvent.objects.get(conversation=convo, kind=TimelineEvent.Kind.PRIORITY)
    assert step.detail == {"old": Priority.NORMAL, "new": Priority.URGENT}
    for bad in (7, "high", None):
        with pytest.raises(InboxError) as error:
            actions.set_priority(convo, bad, member("smm_manager"))
        assert error.value.field == "priority"


def test_actions_refuse_members_of_other_workspaces(cast, convo):
    outsider = membership(cast.outsider, cast.other)
    for call in (
        lambda: actions.add_note(convo, outsider, "hi"),
        lambda: actions.set_status(convo, Status.RESOLVED, outsider),
        lambda: actions.set_priority(convo, 2, outsider),
        lambda: actions.assign(convo, None, outsider),
    ):
        with pytest.raises(InboxError):
            call()
    convo.refresh_from_db()
    assert convo.status == Status.NEW and convo.priority == Priority.NORMAL


def test_the_callers_instance_shows_the_change(convo, member):
    actions.set_status(convo, Status.RESOLVED, member("agent"))
    assert convo.status == Status.RESOLVED and convo.resolved_at is not None
    actions.assign(convo, member("agent"), member("owner"))
    assert convo.assignee == member("agent")


def test_a_stalled_pending_reply_can_be_pushed(convo, member, django_capture_on_commit_callbacks):
    agent = member("agent")
    message, _ = queue_reply(convo, agent, "Hi", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as callbacks:
        actions.retry_reply(message, agent)
    assert len(callbacks) == 1  # queued again: no worker holds it
    cache.add(reply_tasks.lease_key(message.pk), 1)
    with django_capture_on_commit_callbacks() as callbacks:
        actions.retry_reply(message, agent)
    assert callbacks == []  # being sent right now: left to that worker
