"""The inbox pages: who may see and do what, the list's filters with clear errors, its live updates,
escaping of everything a customer writes, and bulk actions. Helpers here are shared by the other
test_views* modules."""

from __future__ import annotations

import html
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from smmdesk.accounts.models import Membership
from smmdesk.business.models import Department
from smmdesk.channels.base import InboundEvent
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.inbox import actions
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import (
    Conversation,
    Message,
    Status,
)

pytestmark = pytest.mark.django_db

ROLES = ["owner", "smm_manager", "content_manager", "agent", "viewer"]
REPLIERS = {"owner", "smm_manager", "agent"}
MANAGERS = {"owner", "smm_manager"}
NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


def make_channel(workspace, name="VK", account="acc"):
    channel = Channel(workspace=workspace, kind="fake", name=name)
    channel.store_config(FakeConfig(account_id=f"{account}-{workspace.slug}", api_token="token-123456"))
    channel.save()
    return channel


def inbound(channel, text="Hello", *, author="u1", name="Anna", kind="dm", url="", now=NOW, **extra):
    """Ingest one customer message; returns its conversation."""
    number = next(_ids)
    event = InboundEvent(
        external_id=f"ext-{number}",
        kind=kind,
        author_id=author,
        author_name=name,
        text=text,
        created_at=now,
        author_url=url,
        **extra,
    )
    result = ingest(channel, [event], now=now)
    return Message.objects.get(pk=result.created[0]).conversation


def url(name, slug="salon", **kwargs):
    return reverse(f"inbox:{name}", kwargs={"slug": slug, **kwargs})


@pytest.fixture
def vk(cast):
    return make_channel(cast.workspace)


@pytest.fixture
def convo(vk):
    return inbound(vk, "Мне не понравилась стрижка", name="Ольга")


@pytest.fixture
def comment(vk):
    return inbound(vk, "Ужасная стрижка!", kind="comment", thread_id="post-1", author="c1", name="Злой")


def member(cast, role):
    return Membership.objects.get(workspace=cast.workspace, user=cast.users[role])


# --- access -------------------------------------------------------------------------------------------------


def test_inbox_is_the_built_section(cast, login):
    page = login(cast.users["viewer"]).get(f"/w/{cast.workspace.slug}/")
    assert url("list").encode() in page.content
    assert url("list") == "/w/salon/inbox/"
    response = login(cast.users["viewer"]).get(url("list"))
    assert response.status_code == 200
    assert b'data-testid="not-built"' not in response.content


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_list_and_a_conversation(cast, login, convo, role):
    client = login(cast.users[role])
    listing = client.get(url("list"))
    assert listing.status_code == 200
    assert "Ольга" in listing.content.decode()
    page = client.get(url("conversation", conversation_id=convo.pk))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Мне не понравилась стрижка" in text
    # The composer and the management forms are shown only to those who may use them.
    assert ('data-testid="composer"' in text) == (role in REPLIERS)
    assert ('data-testid="manage"' in text) == (role in REPLIERS)
    assert ('data-testid="bulk-form"' in listing.content.decode()) == (role in MANAGERS)


def test_outsider_and_anonymous_are_kept_out(cast, client, login, convo):
    assert client.get(url("list")).status_code == 302
    outsider = login(cast.outsider)
    assert outsider.get(url("list")).status_code == 404
    assert outsider.get(url("conversation", conversation_id=convo.pk)).status_code == 404


def test_another_workspaces_conversation_is_not_found(cast, login):
    theirs = inbound(make_channel(cast.other, name="Rival VK"), "secret complaint")
    client = login(cast.users["owner"])
    assert client.get(url("conversation", conversation_id=theirs.pk)).status_code == 404
    assert client.get(url("live", conversation_id=theirs.pk)).status_code == 404
    assert client.post(url("reply", conversation_id=theirs.pk), {"reply-text": "hi"}).status_code == 404
    message = theirs.messages.get()
    assert client.post(url("retry", message_id=message.pk)).status_code == 404
    assert (
        client.post(
            url("moderate", message_id=message.pk),
            {f"moderate-{message.pk}-action": "hide", f"moderate-{message.pk}-reason": "spam"},
        ).status_code
        == 404
    )


@pytest.mark.parametrize("role", ROLES)
def test_write_views_need_their_permission(cast, login, convo, comment, role, monkeypatch):
    calls = []
    monkeypatch.setattr(actions, "add_note", lambda *a, **k: calls.append("note"))
    monkeypatch.setattr(actions, "moderate", lambda *a, **k: calls.append("moderate"))
    monkeypatch.setattr(actions, "set_status", lambda *a, **k: calls.append("status"))
    client = login(cast.users[role])
    message = comment.messages.get()
    note = client.post(url("note", conversation_id=convo.pk), {"note-text": "call her back"})
    assert note.status_code == (302 if role in REPLIERS else 403)
    moderation = client.post(
        url("moderate", message_id=message.pk),
        {f"moderate-{message.pk}-action": "hide", f"moderate-{message.pk}-reason": "insults"},
    )
    assert moderation.status_code == (302 if role in MANAGERS else 403)
    bulk = client.post(url("bulk"), {"ids": [convo.pk], "action": "resolve"})
    assert bulk.status_code == (302 if role in MANAGERS else 403)
    expected = (["note"] if role in REPLIERS else []) + (["moderate", "status"] if role in MANAGERS else [])
    assert calls == expected


# --- the list: filters, live updates ---------------------------------------------------------------------


def test_bad_filter_values_are_named_and_ignored(cast, login, convo):
    client = login(cast.users["agent"])
    other_channel = make_channel(cast.other, name="Their channel")
    for query, field in [
        ({"channel": "abc"}, "channel"),
        ({"channel": str(other_channel.pk)}, "channel"),
        ({"status": "deleted"}, "status"),
        ({"risk": "high"}, "risk"),
        ({"assignee": "999999"}, "assignee"),
        ({"after": "not-a-cursor"}, "after"),
    ]:
        response = client.get(url("list"), query)
        assert response.status_code == 200, query
        assert field in response.context["form"].errors, query
        # The list still shows, without the refused filter.
        assert "Ольга" in response.content.decode(), query


def test_filters_narrow_the_list(cast, login, vk):
    tg = make_channel(cast.workspace, name="Telegram", account="tg")
    quality = Department.objects.create(workspace=cast.workspace, name="Quality")
    quality.members.add(member(cast, "agent"))
    in_quality = inbound(vk, "broken dryer", author="a", name="Alpha")
    Conversation.objects.filter(pk=in_quality.pk).update(department=quality)
    inbound(tg, "when do you open", author="b", name="Bravo")
    client = login(cast.users["agent"])

    def names(**query):
        response = client.get(url("list"), query)
        assert response.status_code == 200
        return {c.customer.name for c in response.context["page"].rows}

    assert names() == {"Alpha", "Bravo"}
    assert names(channel=tg.pk) == {"Bravo"}
    assert names(department="mine") == {"Alpha"}
    assert names(department=quality.pk) == {"Alpha"}
    assert names(department="none") == {"Bravo"}
    assert names(q="dryer") == {"Alpha"}


def test_updates_answer_204_until_something_changes(cast, login, vk, convo):
    client = login(cast.users["agent"])
    page = client.get(url("list"))
    version = page.context["page"].version
    assert f"v={version}" in page.content.decode()
    same = client.get(url("updates"), {"v": version}, HTTP_HX_REQUEST="true")
    assert same.status_code == 204 and same.content == b""
    inbound(vk, "Можно записаться на завтра?", author="u2", name="Пётр", now=NOW + timedelta(minutes=1))
    fresh = client.get(url("updates"), {"v": version}, HTTP_HX_REQUEST="true")
    assert fresh.status_code == 200
    body = fresh.content.decode()
    assert "Пётр" in body and 'id="inbox-list"' in body and "<html" not in body
    assert fresh.context["page"].version != version
    # The fragment carries its own new token, so the next poll is quiet again.
    assert client.get(url("updates"), {"v": fresh.context["page"].version}).status_code == 204


def test_updates_keep_the_filters(cast, login, vk):
    inbound(vk, "first", author="a", name="Alpha")
    client = login(cast.users["agent"])
    page = client.get(url("list"), {"q": "first"})
    poll = page.context["updates_url"]
    assert "q=first" in poll
    inbound(vk, "second", author="b", name="Bravo", now=NOW + timedelta(minutes=1))
    # Nothing the filtered list shows changed.
    assert client.get(poll).status_code == 204


def test_assignment_change_wakes_the_poll(cast, login, convo):
    client = login(cast.users["agent"])
    version = client.get(url("list")).context["page"].version
    Conversation.objects.filter(pk=convo.pk).update(assignee=member(cast, "agent"))
    assert client.get(url("updates"), {"v": version}).status_code == 200


def test_list_pages_follow_each_other(cast, login, vk, monkeypatch):
    from smmdesk.inbox import queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    for n in range(5):
        inbound(vk, f"message {n}", author=f"a{n}", name=f"Person {n}", now=NOW + timedelta(minutes=n))
    client = login(cast.users["agent"])
    seen, query = [], {}
    for _ in range(5):
        response = client.get(url("list") + query.get("next", ""))
        seen += [c.pk for c in response.context["page"].rows]
        if not response.context["next_page_url"]:
            break
        query["next"] = response.context["next_page_url"]
    assert len(seen) == 5 and len(set(seen)) == 5


# --- escaping ----------------------------------------------------------------------------------------------

XSS = [
    "<img src=x onerror=alert(1)>",
    '"><script>alert(1)</script>',
    "<svg/onload=alert(1)>",
    "' onmouseover='alert(1)",
]
TEMPLATE_INJECTION = "{{ request.user }}"


def assert_inert(body: str, payloads) -> None:
    for payload in payloads:
        assert payload not in body
        assert html.escape(payload, quote=True) in body
    assert "<script>alert" not in body and "<img src=x" not in body and "<svg" not in body
    assert "' onmouseover='" not in body
    assert 'href="javascript:' not in body.lower()


def test_customer_text_is_escaped_everywhere(cast, login, vk):
    conversations = {
        payload: inbound(
            vk, f"text {payload}", author=f"x{i}", name=f"name {payload}", url="javascript:alert(1)"
        )
        for i, payload in enumerate(XSS + [TEMPLATE_INJECTION])
    }
    client = login(cast.users["owner"])
    for response in [client.get(url("list")), client.get(url("updates"), {"v": "stale"})]:
        assert response.status_code == 200
        assert_inert(response.content.decode(), XSS)
        # Customer text is data, never a template.
        assert TEMPLATE_INJECTION in response.content.decode()
    for payload, conversation in conversations.items():
        for name in ("conversation", "live"):
            response = client.get(url(name, conversation_id=conversation.pk))
            assert response.status_code == 200
            body = response.content.decode()
            assert_inert(body, [payload] if payload in XSS else [])
            assert f"text {html.escape(payload)}" in body and f"name {html.escape(payload)}" in body


def test_profile_links_are_only_web_addresses_with_safe_rel(cast, login, vk):
    good = inbound(vk, "hi", author="g", name="Good", url="https://vk.com/id1")
    bad = inbound(vk, "hi", author="b", name="Bad", url="javascript:alert(document.cookie)")
    client = login(cast.users["agent"])
    body = client.get(url("conversation", conversation_id=good.pk)).content.decode()
    assert (
        '<a href="https://vk.com/id1" rel="nofollow noopener noreferrer ugc" target="_blank" '
        'data-testid="profile-link">'
    ) in body
    body = client.get(url("conversation", conversation_id=bad.pk)).content.decode()
    assert 'data-testid="profile-link"' not in body
    assert "javascript:" not in body


def test_bulk_resolves_only_this_workspaces_conversations(cast, login, vk, monkeypatch):
    calls = []
    monkeypatch.setattr(actions, "set_status", lambda c, s, by: calls.append((c.pk, s)))
    mine = [inbound(vk, f"m{n}", author=f"a{n}") for n in range(2)]
    theirs = inbound(make_channel(cast.other, name="Their VK"), "x")
    client = login(cast.users["smm_manager"])
    refused = client.post(url("bulk"), {"ids": [mine[0].pk, theirs.pk], "action": "resolve"}, follow=True)
    assert calls == []
    assert "Conversations" in refused.content.decode()
    client.post(url("bulk"), {"ids": [c.pk for c in mine], "action": "resolve"})
    assert sorted(calls) == sorted((c.pk, Status.RESOLVED) for c in mine)
    calls.clear()
    missing_status = client.post(url("bulk"), {"ids": [mine[0].pk], "action": "status"}, follow=True)
    assert calls == [] and "Status" in missing_status.content.decode()
