"""The inbox pages with the real use cases behind them: a day's work on a conversation, click by click."""

from __future__ import annotations

import pytest

from smmdesk.business.models import Department
from smmdesk.channels.fake.adapter import FakeNetwork
from smmdesk.inbox.models import Conversation, HandOff, Message, Status, TimelineEvent
from smmdesk.inbox.tests.test_views import inbound, make_channel, member, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def vk(cast):
    return make_channel(cast.workspace)


def test_reply_handoff_answer_and_resolve_show_on_the_timeline(cast, login, vk):
    conversation = inbound(vk, "Мастер испортил стрижку", author="olga", name="Ольга")
    quality = Department.objects.create(workspace=cast.workspace, name="Quality")
    quality.members.add(member(cast, "agent"))
    manager = login(cast.users["smm_manager"])
    page = url("conversation", conversation_id=conversation.pk)

    reply = manager.post(url("reply", conversation_id=conversation.pk), {"reply-text": "Разберёмся!"})
    assert reply.status_code == 302
    sent = Message.objects.get(conversation=conversation, direction=Message.Direction.OUT)
    assert sent.text == "Разберёмся!" and sent.delivery == Message.Delivery.PENDING

    handoff = manager.post(
        url("handoff", conversation_id=conversation.pk),
        {"handoff-department": quality.pk, "handoff-note": "Посмотрите запись на 12:00"},
    )
    assert handoff.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == Status.WAITING_DEPARTMENT and conversation.department == quality

    # The agent of Quality finds it in their queue and answers.
    agent = login(cast.users["agent"])
    queue = agent.get(url("list"), {"department": "mine"})
    assert [c.pk for c in queue.context["page"].rows] == [conversation.pk]
    record = HandOff.objects.get(conversation=conversation)
    answered = agent.post(
        url("answer", handoff_id=record.pk), {f"answer-{record.pk}-text": "Перезвоним и переделаем бесплатно"}
    )
    assert answered.status_code == 302

    manager = login(cast.users["smm_manager"])
    body = manager.get(page).content.decode()
    assert 'data-quote="Перезвоним и переделаем бесплатно"' in body
    kinds = list(TimelineEvent.objects.filter(conversation=conversation).values_list("kind", flat=True))
    for kind in ("created", "handoff", "department_reply"):
        assert kind in kinds
    # Every step says who did it.
    assert "Smm Manager" in body and "Agent" in body

    resolved = manager.post(url("status", conversation_id=conversation.pk), {"status": "resolved"})
    assert resolved.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED
    assert conversation.pk not in [c.pk for c in manager.get(url("list")).context["page"].rows]
    everything = manager.get(url("list"), {"status": "all"}).context["page"].rows
    assert conversation.pk in [c.pk for c in everything]


def test_refused_transition_is_explained(cast, login, vk):
    conversation = inbound(vk, "hi")
    client = login(cast.users["agent"])
    client.post(url("status", conversation_id=conversation.pk), {"status": "closed"})
    response = client.post(
        url("status", conversation_id=conversation.pk), {"status": "waiting_customer"}, follow=True
    )
    assert "cannot go from" in response.content.decode()
    # The page offers only what is possible from "closed": reopening.
    buttons = [value for value, _label in response.context["status_buttons"]]
    assert buttons == ["open"]


def test_bulk_assign_and_status(cast, login, vk):
    conversations = [inbound(vk, f"m{n}", author=f"a{n}") for n in range(3)]
    agent = member(cast, "agent")
    client = login(cast.users["owner"])
    ids = [c.pk for c in conversations[:2]]
    client.post(url("bulk"), {"ids": ids, "action": "assign", "assignee": agent.pk})
    assert set(Conversation.objects.filter(assignee=agent).values_list("pk", flat=True)) == set(ids)
    client.post(url("bulk"), {"ids": ids, "action": "status", "status": "waiting_customer"})
    statuses = dict(Conversation.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["waiting_customer", "waiting_customer"]
    assert statuses[conversations[2].pk] == "new"
    # A viewer cannot be assigned conversations: the use case refuses, the page says so.
    viewer = member(cast, "viewer")
    response = client.post(url("bulk"), {"ids": ids, "action": "assign", "assignee": viewer.pk}, follow=True)
    assert "cannot answer conversations" in response.content.decode()


def test_moderation_hides_the_comment_on_the_network(cast, login, vk):
    comment = inbound(vk, "Спам спам", kind="comment", thread_id="post-9", author="spammer")
    message = comment.messages.get()
    client = login(cast.users["owner"])
    response = client.post(
        url("moderate", message_id=message.pk),
        {f"moderate-{message.pk}-action": "hide", f"moderate-{message.pk}-reason": "реклама"},
    )
    assert response.status_code == 302
    account = FakeNetwork.account(f"acc-{cast.workspace.slug}")
    assert account.moderated == {message.external_id: "hide"}
    body = client.get(url("conversation", conversation_id=comment.pk)).content.decode()
    assert "реклама" in body  # the reason, on the timeline


def test_note_with_mention(cast, login, vk):
    conversation = inbound(vk, "hi")
    client = login(cast.users["agent"])
    client.post(url("note", conversation_id=conversation.pk), {"note-text": "@owner посмотрите"})
    note = Message.objects.get(conversation=conversation, direction=Message.Direction.NOTE)
    assert note.text == "@owner посмотрите"
    body = client.get(url("conversation", conversation_id=conversation.pk)).content.decode()
    assert "@owner посмотрите" in body and "Internal note" in body
