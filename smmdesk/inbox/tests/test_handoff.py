"""Hand-off to a department: queue, notices, e-mail and Telegram, the answer coming back."""

import json

import httpx
import pytest
import respx
from django.core import mail as django_mail
from django.core.cache import cache
from huey.contrib.djhuey import HUEY

from smmdesk.inbox import actions, mail, reply_tasks
from smmdesk.inbox.actions import InboxError
from smmdesk.inbox.models import HandOff, Message, Notification, Status, TimelineEvent
from smmdesk.inbox.tests.conversations import (
    conversation_from,
    event,
    make_channel,
    make_department,
    membership,
)

Kind = TimelineEvent.Kind


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def immediate():
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


@pytest.fixture
def member(cast):
    return lambda role: membership(cast.users[role], cast.workspace)


@pytest.fixture
def convo(cast):
    channel = make_channel(cast.workspace)
    return conversation_from(
        channel,
        event("in-1", thread="chat-1", text="The dye burned my scalp.\nI want a refund!"),
    )


@pytest.fixture
def billing(cast, member):
    return make_department(
        cast.workspace,
        "Billing",
        members=[member("agent"), member("content_manager")],
        notify_email="billing@salon.example",
    )


def test_hand_off_puts_it_in_the_department_queue(convo, billing, member, django_capture_on_commit_callbacks):
    manager = member("smm_manager")
    with django_capture_on_commit_callbacks() as callbacks:
        handoff = actions.hand_off(convo, billing.pk, "  Refund? She paid 1500.  ", manager)
    assert len(callbacks) == 1
    assert handoff.note == "Refund? She paid 1500." and handoff.created_by == manager
    assert len(handoff.reply_token) == 32 and handoff.answered_at is None
    convo.refresh_from_db()
    assert convo.department == billing and convo.status == Status.WAITING_DEPARTMENT
    steps = list(TimelineEvent.objects.filter(conversation=convo).exclude(kind=Kind.CREATED))
    assert [(s.kind, s.actor) for s in steps] == [(Kind.STATUS, manager), (Kind.HANDOFF, manager)]
    assert steps[1].detail["department_name"] == "Billing" and steps[1].detail["note"] == handoff.note
    notified = Notification.objects.filter(kind="handoff", key=f"handoff:{handoff.pk}")
    assert sorted(n.membership.role for n in notified) == ["agent", "content_manager"]


def test_hand_off_refuses_another_workspaces_department(cast, convo, member):
    foreign = make_department(cast.other, "Their billing")
    for department_id in (foreign.pk, 99999, "abc", None):
        with pytest.raises(InboxError) as error:
            actions.hand_off(convo, department_id, "", member("smm_manager"))
        assert error.value.field == "department"
    with pytest.raises(InboxError):
        actions.hand_off(convo, foreign.pk, "", membership(cast.outsider, cast.other))
    assert not HandOff.objects.exists()


def test_hand_off_note_too_long(convo, billing, member):
    with pytest.raises(InboxError) as error:
        actions.hand_off(convo, billing.pk, "x" * 5001, member("smm_manager"))
    assert error.value.field == "note"


def test_hand_off_e_mail(convo, billing, member, settings, immediate, django_capture_on_commit_callbacks):
    settings.SMMDESK_INBOUND_EMAIL_DOMAIN = "in.salon.example"
    settings.SMMDESK_PUBLIC_URL = "https://desk.salon.example"
    # The notice is written in the workspace's first language; this test reads the English one.
    convo.workspace.profile.languages = ["en", "ru"]
    convo.workspace.profile.save()
    with django_capture_on_commit_callbacks(execute=True):
        handoff = actions.hand_off(convo, billing.pk, "Refund?", member("smm_manager"))
    sent = django_mail.outbox
    assert sorted(m.to[0] for m in sent) == [
        "agent@salon.example",
        "billing@salon.example",
        "content_manager@salon.example",
    ]
    first = sent[0]
    assert first.reply_to == [f"reply+{handoff.reply_token}@in.salon.example"]
    assert first.extra_headers["Message-ID"].startswith(f"<handoff.{handoff.reply_token}.")
    assert first.extra_headers["Auto-Submitted"] == "auto-generated"
    assert first.subject == f"[Salon Leninsky] For Billing: {convo.subject}"
    body = first.body
    assert body.startswith("##- Please type your reply above this line -##")
    assert "Smm Manager handed a conversation to Billing." in body and "Refund?" in body
    assert "> The dye burned my scalp.\n> I want a refund!" in body
    assert f"https://desk.salon.example/w/salon/inbox/c/{convo.pk}/" in body
    # The members' own notice is the e-mail above, not a second one from notify.
    assert len(sent) == 3

    # A rerun of the task (crash, retry) sends nothing more.
    reply_tasks.send_handoff_mail_task.call_local(handoff.pk)
    assert len(django_mail.outbox) == 3


def test_hand_off_telegram(convo, billing, member, settings, immediate, django_capture_on_commit_callbacks):
    settings.SMMDESK_TELEGRAM_BOT_TOKEN = "123456:bot-token-secret"
    billing.telegram_chat_id = "-100777"
    billing.save()
    with respx.mock(assert_all_called=True) as network:
        route = network.post("https://api.telegram.org/bot123456:bot-token-secret/sendMessage").mock(
            return_value=httpx.Response(200, json={"ok": True})
        )
        with django_capture_on_commit_callbacks(execute=True):
            handoff = actions.hand_off(convo, billing.pk, "Refund?", member("smm_manager"))
        reply_tasks.send_handoff_telegram_task.call_local(handoff.pk)
    assert route.call_count == 1
    sent = json.loads(route.calls[0].request.content)
    assert sent["chat_id"] == "-100777"
    assert "Billing" in sent["text"] and "> The dye burned my scalp." in sent["text"]
    assert "reply above this line" not in sent["text"]


def test_no_telegram_without_a_bot(
    convo, billing, member, settings, immediate, django_capture_on_commit_callbacks
):
    settings.SMMDESK_TELEGRAM_BOT_TOKEN = ""
    billing.telegram_chat_id = "-100777"
    billing.save()
    with respx.mock(assert_all_mocked=True) as network:
        with django_capture_on_commit_callbacks(execute=True):
            actions.hand_off(convo, billing.pk, "Refund?", member("smm_manager"))
        assert not network.calls


def test_department_answer_in_smmdesk(convo, billing, member):
    manager, agent = member("smm_manager"), member("agent")
    convo = actions.assign(convo, member("owner"), manager)
    handoff = actions.hand_off(convo, billing.pk, "Refund?", manager)
    handoff = actions.department_answer(handoff, "Yes, refund in full.", by=agent)
    assert handoff.answer == "Yes, refund in full." and handoff.answered_by == "agent@salon.example"
    assert handoff.conversation.status == Status.OPEN
    step = TimelineEvent.objects.get(conversation=convo, kind=Kind.DEPARTMENT_REPLY)
    assert step.actor == agent and step.detail["text"] == "Yes, refund in full."
    notified = Notification.objects.filter(kind="department_reply")
    # The assignee passes it on, and whoever handed it off hears back.
    assert sorted(n.membership.role for n in notified) == ["owner", "smm_manager"]

    # The same answer again (double click, resent mail) changes nothing; another one is refused.
    actions.department_answer(handoff, "Yes, refund in full.", by=agent)
    assert TimelineEvent.objects.filter(kind=Kind.DEPARTMENT_REPLY).count() == 1
    with pytest.raises(InboxError) as error:
        actions.department_answer(handoff, "No refund.", by=agent)
    assert error.value.field == "text"
    assert HandOff.objects.get(pk=handoff.pk).answer == "Yes, refund in full."


def test_waits_until_every_department_answered(cast, convo, billing, member):
    manager = member("smm_manager")
    salon = make_department(cast.workspace, "Salon floor", members=[member("agent")])
    first = actions.hand_off(convo, billing.pk, "Refund?", manager)
    second = actions.hand_off(first.conversation, salon.pk, "Who did the dye?", manager)
    assert actions.department_answer(first, "Refund ok", by=member("agent")).conversation.status == (
        Status.WAITING_DEPARTMENT
    )
    assert (
        actions.department_answer(second, "Marina did", by=member("agent")).conversation.status == Status.OPEN
    )


def test_answer_without_anyone_to_tell_goes_to_the_smm_managers(convo, billing, member):
    handoff = actions.hand_off(convo, billing.pk, "", member("agent"))
    HandOff.objects.filter(pk=handoff.pk).update(created_by=None)
    handoff.refresh_from_db()
    actions.department_answer(handoff, "Done", email="billing@salon.example")
    assert [n.membership.role for n in Notification.objects.filter(kind="department_reply")] == [
        "smm_manager"
    ]


def test_empty_answer_and_outsiders_are_refused(cast, convo, billing, member):
    handoff = actions.hand_off(convo, billing.pk, "", member("smm_manager"))
    with pytest.raises(InboxError) as error:
        actions.department_answer(handoff, " ", by=member("agent"))
    assert error.value.field == "text"
    with pytest.raises(InboxError):
        actions.department_answer(handoff, "Hi", by=membership(cast.outsider, cast.other))
    assert HandOff.objects.get(pk=handoff.pk).answered_at is None


def test_answer_by_e_mail_then_a_follow_up(convo, billing, member):
    handoff = actions.hand_off(convo, billing.pk, "Refund?", member("smm_manager"))
    raw = (
        f"From: Billing <billing@salon.example>\nTo: reply+{handoff.reply_token}@localhost\n"
        "Subject: Re: refund\nContent-Type: text/plain; charset=utf-8\n\n"
        "Refund approved.\n\nOn Mon, Mar 10 smmdesk wrote:\n> ##- Please type your reply above this line -##\n"
    ).encode()
    answered = mail.receive(raw)
    assert answered.answer == "Refund approved." and answered.answered_by == "billing@salon.example"
    step = TimelineEvent.objects.get(kind=Kind.DEPARTMENT_REPLY)
    assert step.actor is None and step.detail["email"] == "billing@salon.example"
    assert mail.receive(raw).answer == "Refund approved."  # delivered twice: still one answer
    assert TimelineEvent.objects.filter(kind=Kind.DEPARTMENT_REPLY).count() == 1

    follow_up = raw.replace(b"Refund approved.", b"Also offer her a free visit.")
    mail.receive(follow_up)
    note = Message.objects.get(direction=Message.Direction.NOTE)
    assert note.text == "Also offer her a free visit." and "billing@salon.example" in note.author_name
    assert HandOff.objects.get(pk=handoff.pk).answer == "Refund approved."

    with pytest.raises(mail.InboundMailError) as error:
        mail.receive(raw.replace(b"Refund approved.", b""))
    assert error.value.smtp_reply.startswith("550")
