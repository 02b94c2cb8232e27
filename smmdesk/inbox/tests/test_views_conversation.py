"""The conversation page: profile and cross-channel history, the merged timeline, the composer and its
limits, each form wired to its use case (refusals shown at their field), canned replies, failed replies,
moderation after the suggested public answer, department answers to quote, and the live timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smmdesk.business.models import Department
from smmdesk.inbox import actions
from smmdesk.inbox.actions import InboxError
from smmdesk.inbox.models import CannedReply, CustomerIdentity, HandOff, Message
from smmdesk.inbox.tests.test_views import NOW, inbound, make_channel, member, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def vk(cast):
    return make_channel(cast.workspace)


@pytest.fixture
def convo(vk):
    return inbound(vk, "Мне не понравилась стрижка", name="Ольга")


@pytest.fixture
def comment(vk):
    return inbound(vk, "Ужасная стрижка!", kind="comment", thread_id="post-1", author="c1", name="Злой")


def test_conversation_shows_profile_history_and_timeline_in_order(cast, login, vk):
    tg = make_channel(cast.workspace, name="Telegram", account="tg")
    first = inbound(vk, "Old question on VK", author="olga", name="Ольга")
    # The same person on Telegram (the identity is known, as after a merge).
    CustomerIdentity.objects.create(customer=first.customer, channel=tg, network_id="olga-tg", handle="@olga")
    second = inbound(
        tg, "New question on Telegram", author="olga-tg", name="Ольга", now=NOW + timedelta(hours=1)
    )
    assert second.customer_id == first.customer_id
    client = login(cast.users["agent"])
    response = client.get(url("conversation", conversation_id=second.pk))
    body = response.content.decode()
    assert url("conversation", conversation_id=first.pk) in body
    assert "Old question on VK" in body  # the other conversation, listed by its subject
    assert "@olga" in body
    kinds = [("m" if i.message else "e") for i in response.context["items"]]
    assert kinds[0] == "e" and "m" in kinds  # "conversation started" then the message
    times = [i.at for i in response.context["items"]]
    assert times == sorted(times)


def test_composer_knows_the_networks_limit(cast, login, convo, monkeypatch):
    monkeypatch.setattr(actions, "reply", lambda *a, **k: pytest.fail("must not send"))
    client = login(cast.users["agent"])
    page = client.get(url("conversation", conversation_id=convo.pk)).content.decode()
    assert 'data-max-length="2000"' in page
    too_long = client.post(url("reply", conversation_id=convo.pk), {"reply-text": "я" * 2001})
    assert too_long.status_code == 400
    assert "text" in too_long.context["reply_form"].errors
    assert "2000" in too_long.content.decode()


def test_empty_forms_are_refused_by_field(cast, login, convo, comment):
    client = login(cast.users["owner"])
    message = comment.messages.get()
    for name, kwargs, data, form, field in [
        ("reply", {"conversation_id": convo.pk}, {}, "reply_form", "text"),
        ("note", {"conversation_id": convo.pk}, {}, "note_form", "text"),
        ("assign", {"conversation_id": convo.pk}, {"assign-assignee": "999999"}, "assign_form", "assignee"),
        ("priority", {"conversation_id": convo.pk}, {"priority-priority": "9"}, "priority_form", "priority"),
        ("handoff", {"conversation_id": convo.pk}, {}, "handoff_form", "department"),
    ]:
        response = client.post(url(name, **kwargs), data)
        assert response.status_code == 400, name
        assert field in response.context[form].errors, name
    response = client.post(url("moderate", message_id=message.pk), {f"moderate-{message.pk}-action": "hide"})
    assert response.status_code == 400
    moderated = [i for i in response.context["items"] if i.message and i.message.pk == message.pk][0]
    assert "reason" in moderated.moderation_form.errors


def test_refusal_from_the_use_case_is_shown_at_its_field(cast, login, convo, monkeypatch):
    def refuse(*args, **kwargs):
        raise InboxError("The network refuses replies to this thread.", field="text")

    monkeypatch.setattr(actions, "reply", refuse)
    response = login(cast.users["agent"]).post(url("reply", conversation_id=convo.pk), {"reply-text": "Hi"})
    assert response.status_code == 400
    assert response.context["reply_form"].errors["text"] == ["The network refuses replies to this thread."]


def test_forms_call_their_use_case(cast, login, convo, monkeypatch):
    calls = []
    for name in ("reply", "add_note", "assign", "set_status", "set_priority", "hand_off"):
        monkeypatch.setattr(actions, name, lambda *a, _n=name, **k: calls.append((_n, a, k)))
    agent = member(cast, "agent")
    quality = Department.objects.create(workspace=cast.workspace, name="Quality")
    client = login(cast.users["agent"])
    target = url("conversation", conversation_id=convo.pk)
    posts = [
        ("reply", {"reply-text": "Здравствуйте!\r\nРазберёмся."}),
        ("note", {"note-text": "@Owner look"}),
        ("assign", {"assign-assignee": str(agent.pk)}),
        ("status", {"status": "resolved"}),
        ("priority", {"priority-priority": "3"}),
        ("handoff", {"handoff-department": str(quality.pk), "handoff-note": "check the master"}),
    ]
    for name, data in posts:
        response = client.post(url(name, conversation_id=convo.pk), data)
        assert response.status_code == 302 and response["Location"] == target, name
    by = agent
    assert [c[0] for c in calls] == ["reply", "add_note", "assign", "set_status", "set_priority", "hand_off"]
    assert calls[0][1] == (convo, by, "Здравствуйте!\nРазберёмся.")
    assert calls[2][1] == (convo, agent, by)
    assert calls[3][1] == (convo, "resolved", by)
    assert calls[4][1] == (convo, 3, by)
    assert calls[5][1] == (convo, quality.pk, "check the master", by)


def test_next_must_be_ours(cast, login, convo, monkeypatch):
    monkeypatch.setattr(actions, "set_status", lambda *a, **k: None)
    client = login(cast.users["agent"])
    target = url("status", conversation_id=convo.pk)
    inside = client.post(target, {"status": "resolved", "next": "/w/salon/inbox/?q=x"})
    assert inside["Location"] == "/w/salon/inbox/?q=x"
    outside = client.post(target, {"status": "resolved", "next": "https://evil.example/"})
    assert outside["Location"] == url("conversation", conversation_id=convo.pk)


def test_canned_reply_is_rendered_for_the_conversation(cast, login, convo):
    reply = CannedReply.objects.create(
        workspace=cast.workspace, title="Hello", text="Hello, {customer_name}!"
    )
    theirs = CannedReply.objects.create(workspace=cast.other, title="Theirs", text="x")
    client = login(cast.users["agent"])
    page = client.get(url("conversation", conversation_id=convo.pk)).content.decode()
    assert url("canned", conversation_id=convo.pk, reply_id=reply.pk) in page
    response = client.get(url("canned", conversation_id=convo.pk, reply_id=reply.pk))
    assert response.status_code == 200
    text = response.json()["text"]
    assert text.startswith("Hello, ")
    assert client.get(url("canned", conversation_id=convo.pk, reply_id=theirs.pk)).status_code == 404
    assert (
        login(cast.users["viewer"])
        .get(url("canned", conversation_id=convo.pk, reply_id=reply.pk))
        .status_code
        == 403
    )


def test_failed_reply_shows_its_reason_and_a_retry(cast, login, convo, monkeypatch):
    failed = Message.objects.create(
        workspace=cast.workspace,
        channel=convo.channel,
        conversation=convo,
        direction=Message.Direction.OUT,
        text="Our answer",
        delivery=Message.Delivery.FAILED,
        delivery_error="Flood control: wait 30 s",
        author=member(cast, "agent"),
    )
    client = login(cast.users["agent"])
    body = client.get(url("conversation", conversation_id=convo.pk)).content.decode()
    assert "Flood control: wait 30 s" in body
    assert url("retry", message_id=failed.pk) in body
    calls = []
    monkeypatch.setattr(actions, "retry_reply", lambda message, by: calls.append((message, by)))
    assert client.post(url("retry", message_id=failed.pk)).status_code == 302
    assert calls == [(failed, member(cast, "agent"))]


def test_negative_comment_suggests_a_public_answer_before_moderation(cast, login, comment):
    Message.objects.filter(conversation=comment).update(sentiment="negative")
    owner_page = login(cast.users["owner"]).get(url("conversation", conversation_id=comment.pk))
    body = owner_page.content.decode()
    assert 'data-testid="answer-publicly"' in body and 'data-testid="moderate-form"' in body
    assert body.index('data-testid="answer-publicly"') < body.index('data-testid="moderate-form"')
    agent_body = (
        login(cast.users["agent"]).get(url("conversation", conversation_id=comment.pk)).content.decode()
    )
    assert 'data-testid="moderate-form"' not in agent_body


def test_only_comments_are_moderated(cast, login, convo, monkeypatch):
    monkeypatch.setattr(actions, "moderate", lambda *a, **k: pytest.fail("a direct message is not moderated"))
    message = convo.messages.get()
    client = login(cast.users["owner"])
    assert (
        'data-testid="moderate-form"'
        not in client.get(url("conversation", conversation_id=convo.pk)).content.decode()
    )
    data = {f"moderate-{message.pk}-action": "hide", f"moderate-{message.pk}-reason": "spam"}
    response = client.post(url("moderate", message_id=message.pk), data, follow=True)
    assert "Only comments" in response.content.decode()


def test_department_answer_can_be_quoted(cast, login, convo):
    quality = Department.objects.create(workspace=cast.workspace, name="Quality")
    HandOff.objects.create(
        conversation=convo,
        department=quality,
        note="please check",
        reply_token="t1",
        answer='Мастер перезвонит <b>сегодня</b> "в 15:00"',
        answered_by="quality@salon.example",
        answered_at=NOW,
    )
    open_handoff = HandOff.objects.create(conversation=convo, department=quality, reply_token="t2")
    body = login(cast.users["agent"]).get(url("conversation", conversation_id=convo.pk)).content.decode()
    assert 'data-quote="Мастер перезвонит &lt;b&gt;сегодня&lt;/b&gt; &quot;в 15:00&quot;"' in body
    assert url("answer", handoff_id=open_handoff.pk) in body


def test_live_timeline_answers_204_until_it_changes(cast, login, vk, convo):
    client = login(cast.users["agent"])
    page = client.get(url("conversation", conversation_id=convo.pk))
    version = page.context["live_version"]
    live = url("live", conversation_id=convo.pk)
    assert client.get(live, {"v": version}).status_code == 204
    inbound(vk, "И ещё вопрос", author="u1", name="Ольга", now=NOW + timedelta(minutes=2))
    fresh = client.get(live, {"v": version})
    assert fresh.status_code == 200 and "И ещё вопрос" in fresh.content.decode()
    Message.objects.filter(conversation=convo).update(delivery=Message.Delivery.FAILED)
    assert client.get(live, {"v": fresh.context["live_version"]}).status_code == 200
