"""The inbox API: filters and pages, the use cases behind each operation, roles, 404 for other workspaces'
ids, 422 naming the field, and never a 500 for odd input."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from smmdesk.accounts import actions as account_actions
from smmdesk.accounts.models import Membership
from smmdesk.api import api
from smmdesk.business.models import Department
from smmdesk.channels.fake.adapter import FakeConfig
from smmdesk.channels.models import Channel
from smmdesk.inbox.api import router
from smmdesk.inbox.models import Conversation, HandOff, Message, TimelineEvent

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def make_channel(workspace, name="VK"):
    channel = Channel(workspace=workspace, kind="fake", name=name)
    channel.store_config(FakeConfig(account_id=f"acc-{workspace.slug}-{name}", api_token="token-123456"))
    channel.save()
    return channel


def make_conversation(workspace, channel, n, **fields):
    conversation = Conversation.objects.create(
        workspace=workspace, channel=channel, kind="dm", thread_key=f"dm:{n}", subject=f"Вопрос {n}", **fields
    )
    Message.objects.create(
        workspace=workspace,
        channel=channel,
        conversation=conversation,
        direction="in",
        external_id=f"in-{n}",
        text=f"Здравствуйте, это {n}",
        author_name="Анна",
    )
    TimelineEvent.objects.create(conversation=conversation, kind="created", detail={"kind": "dm"})
    return conversation


@pytest.fixture
def inbox(cast):
    ws = cast.workspace
    vk, tg = make_channel(ws, "VK"), make_channel(ws, "Telegram")
    reception = Department.objects.create(workspace=ws, name="Reception")
    quality = Department.objects.create(workspace=ws, name="Quality")
    agent = Membership.objects.get(workspace=ws, role="agent")
    now = datetime.now(UTC)
    rows = [
        make_conversation(ws, vk, 1, status="new", department=reception, due_at=now + timedelta(minutes=30)),
        make_conversation(
            ws,
            vk,
            2,
            status="open",
            department=reception,
            assignee=agent,
            due_at=now + timedelta(minutes=5),
            sentiment="negative",
            language="ru",
        ),
        make_conversation(ws, tg, 3, status="open", department=quality, language="en"),
        make_conversation(ws, tg, 4, status="resolved", department=quality),
    ]
    other_channel = make_channel(cast.other, "VK")
    foreign = make_conversation(cast.other, other_channel, 99, status="open")
    foreign_department = Department.objects.create(workspace=cast.other, name="Elsewhere")
    return {
        "rows": rows,
        "vk": vk,
        "tg": tg,
        "reception": reception,
        "quality": quality,
        "agent": agent,
        "foreign": foreign,
        "foreign_department": foreign_department,
    }


def call(client, method, path, body=None, raw=None, **params):
    kwargs = {}
    if body is not None or raw is not None:
        kwargs = {"data": raw if raw is not None else json.dumps(body), "content_type": "application/json"}
    elif params:
        kwargs = {"data": params}
    return getattr(client, method)(f"/api/w/salon/{path}", **kwargs)


def fields(response):
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["detail"] == "invalid input"
    return {error["field"]: error["message"] for error in body["errors"]}


@pytest.fixture
def manager(cast, login):
    return login(cast.users["smm_manager"])


def inbox_operations():
    for path, path_view in router.path_operations.items():
        for operation in path_view.operations:
            yield path, operation


def test_every_operation_declares_access_and_names_its_path_params():
    assert any(registered is router for _prefix, registered in api._routers)
    seen = {}
    for path, operation in inbox_operations():
        seen[f"{'/'.join(operation.methods)} {path}"] = operation.view_func.access
        for part in path.split("/"):
            if part.startswith("{"):
                assert part in ("{slug}", "{conversation_id}", "{handoff_id}"), path
    assert seen == {
        "GET /w/{slug}/conversations": "inbox.view",
        "GET /w/{slug}/conversations/{conversation_id}": "inbox.view",
        "POST /w/{slug}/conversations/{conversation_id}/replies": "inbox.reply",
        "POST /w/{slug}/conversations/{conversation_id}/notes": "inbox.reply",
        "POST /w/{slug}/conversations/{conversation_id}/status": "inbox.reply",
        "POST /w/{slug}/conversations/{conversation_id}/assign": "inbox.reply",
        "POST /w/{slug}/conversations/{conversation_id}/handoffs": "inbox.reply",
        "POST /w/{slug}/handoffs/{handoff_id}/answer": "inbox.reply",
        "GET /w/{slug}/reports": "inbox.manage",
    }


def test_openapi_schema_builds(manager):
    paths = manager.get("/api/openapi.json").json()["paths"]
    assert "/api/w/{slug}/conversations/{conversation_id}/handoffs" in paths
    assert "/api/w/{slug}/reports" in paths


# --- reading ---------------------------------------------------------------------------------------------


def subjects(response):
    assert response.status_code == 200, response.content
    return [item["subject"] for item in response.json()["items"]]


def test_list_is_sorted_by_urgency_and_filtered(inbox, manager, cast):
    # Active only by default; the nearest deadline first, then those without one.
    assert subjects(call(manager, "get", "conversations")) == ["Вопрос 2", "Вопрос 1", "Вопрос 3"]
    # Without a deadline: the most recently active first.
    assert subjects(call(manager, "get", "conversations", status="all")) == [
        "Вопрос 2",
        "Вопрос 1",
        "Вопрос 4",
        "Вопрос 3",
    ]
    assert subjects(call(manager, "get", "conversations", status="resolved")) == ["Вопрос 4"]
    reception = inbox["reception"].pk
    assert subjects(call(manager, "get", "conversations", status="open", department=reception)) == [
        "Вопрос 2"
    ]
    assert subjects(call(manager, "get", "conversations", channel=inbox["tg"].pk)) == ["Вопрос 3"]
    assert subjects(call(manager, "get", "conversations", sentiment="negative")) == ["Вопрос 2"]
    assert subjects(call(manager, "get", "conversations", language="en")) == ["Вопрос 3"]
    assert subjects(call(manager, "get", "conversations", assignee=inbox["agent"].pk)) == ["Вопрос 2"]
    assert subjects(call(manager, "get", "conversations", assignee="none")) == ["Вопрос 1", "Вопрос 3"]
    assert subjects(call(manager, "get", "conversations", department="none")) == []
    assert call(Client(), "get", "conversations").status_code == 401


def test_assignee_me(inbox, cast, login):
    client = login(cast.users["agent"])
    assert subjects(call(client, "get", "conversations", assignee="me")) == ["Вопрос 2"]


def test_pages(inbox, manager):
    first = call(manager, "get", "conversations", limit=2).json()
    assert (first["count"], first["limit"], first["offset"], len(first["items"])) == (3, 2, 0, 2)
    second = call(manager, "get", "conversations", limit=2, offset=2).json()
    assert [i["subject"] for i in second["items"]] == ["Вопрос 3"]
    assert fields(call(manager, "get", "conversations", limit=101)).keys() == {"limit"}
    assert fields(call(manager, "get", "conversations", limit=0)).keys() == {"limit"}
    assert fields(call(manager, "get", "conversations", offset=-1)).keys() == {"offset"}


@pytest.mark.parametrize(
    "params,field",
    [
        ({"status": "bogus"}, "status"),
        ({"department": "abc"}, "department"),
        ({"assignee": "someone"}, "assignee"),
        ({"sentiment": "angry"}, "sentiment"),
        ({"risk": "soon"}, "risk"),
        ({"channel": "vk"}, "channel"),
        ({"language": "x" * 40}, "language"),
        ({"q": "x" * 300}, "q"),
        ({"limit": "lots"}, "limit"),
    ],
)
def test_list_refuses_bad_filters(inbox, manager, params, field):
    assert field in fields(call(manager, "get", "conversations", **params))


def test_list_odd_ids_find_nothing(inbox, manager):
    huge = str(10**30)
    for params in ({"department": huge}, {"assignee": huge}, {"channel": 2**63 + 5}):
        response = call(manager, "get", "conversations", **params)
        assert response.status_code in (200, 422), params
        if response.status_code == 200:
            assert response.json()["items"] == []
    assert subjects(call(manager, "get", "conversations", department=inbox["foreign_department"].pk)) == []


def test_detail_has_messages_notes_timeline_and_handoffs(inbox, manager, cast):
    conversation = inbox["rows"][1]
    Message.objects.create(
        workspace=cast.workspace,
        channel=inbox["vk"],
        conversation=conversation,
        direction="note",
        author=Membership.objects.get(workspace=cast.workspace, role="smm_manager"),
        text="Проверить запись",
    )
    HandOff.objects.create(
        conversation=conversation,
        department=inbox["quality"],
        note="Посмотрите",
        reply_token="secret-reply-token-123",
    )
    response = call(manager, "get", f"conversations/{conversation.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["department"] == "Reception" and body["assignee_id"] == inbox["agent"].pk
    assert [m["direction"] for m in body["messages"]] == ["in", "note"]
    assert body["messages"][1]["author_id"] is not None
    assert [e["kind"] for e in body["timeline"]] == ["created"]
    assert body["handoffs"][0]["note"] == "Посмотрите"
    assert "secret-reply-token-123" not in response.content.decode()


def test_other_workspaces_ids_are_not_found(inbox, manager):
    foreign = inbox["foreign"].pk
    assert call(manager, "get", f"conversations/{foreign}").status_code == 404
    for action, body in (
        ("replies", {"text": "hi"}),
        ("notes", {"text": "hi"}),
        ("status", {"status": "resolved"}),
        ("assign", {"membership_id": None}),
        ("handoffs", {"department_id": inbox["quality"].pk}),
    ):
        assert call(manager, "post", f"conversations/{foreign}/{action}", body).status_code == 404, action
    assert call(manager, "get", f"conversations/{10**30}").status_code == 404
    assert call(manager, "get", "conversations/abc").status_code == 422
    foreign_handoff = HandOff.objects.create(
        conversation=inbox["foreign"], department=inbox["foreign_department"], reply_token="t-foreign"
    )
    assert call(manager, "post", f"handoffs/{foreign_handoff.pk}/answer", {"text": "x"}).status_code == 404


@pytest.mark.parametrize(
    "role,read,write,report",
    [
        ("owner", 200, 201, 200),
        ("smm_manager", 200, 201, 200),
        ("agent", 200, 201, 403),
        ("content_manager", 200, 403, 403),
        ("viewer", 200, 403, 403),
    ],
)
def test_roles_with_a_token(inbox, cast, client, role, read, write, report):
    _token, raw = account_actions.create_api_token(cast.users[role], "test")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    conversation = inbox["rows"][0].pk
    assert client.get("/api/w/salon/conversations", **auth).status_code == read
    assert client.get(f"/api/w/salon/conversations/{conversation}", **auth).status_code == read
    note = client.post(
        f"/api/w/salon/conversations/{conversation}/notes",
        json.dumps({"text": "заметка"}),
        content_type="application/json",
        **auth,
    )
    assert note.status_code == write
    assert client.get("/api/w/salon/reports", **auth).status_code == report


def test_outsider_gets_404(inbox, cast, login):
    client = login(cast.outsider)
    assert call(client, "get", "conversations").status_code == 404
    assert call(client, "get", "reports").status_code == 404
    assert (
        call(client, "post", f"conversations/{inbox['rows'][0].pk}/notes", {"text": "x"}).status_code == 404
    )


# --- acting ----------------------------------------------------------------------------------------------


def test_reply(inbox, manager, cast):
    conversation = inbox["rows"][0]
    response = call(manager, "post", f"conversations/{conversation.pk}/replies", {"text": "Добрый день!"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["direction"] == "out" and body["text"] == "Добрый день!" and body["delivery"] == "pending"
    message = Message.objects.get(pk=body["id"])
    assert message.author.user == cast.users["smm_manager"]
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.first_response_at is not None


@pytest.mark.parametrize(
    "body,field",
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 2001}, "text"),  # the fake network's limit
        ({}, "text"),
        ({"text": None}, "text"),
        ({"text": ["a"]}, "text"),
        ({"text": {"a": 1}}, "text"),
        ({"text": "a\x00b"}, "text"),
    ],
)
def test_reply_refusals_name_the_field(inbox, manager, body, field):
    path = f"conversations/{inbox['rows'][0].pk}/replies"
    assert field in fields(call(manager, "post", path, body))
    assert not Message.objects.filter(direction="out").exists()


def test_reply_to_a_disabled_channel(inbox, manager):
    channel = inbox["vk"]
    channel.status = Channel.Status.DISABLED
    channel.save()
    response = call(manager, "post", f"conversations/{inbox['rows'][0].pk}/replies", {"text": "hi"})
    assert response.status_code == 422 and response.json()["errors"][0]["message"]


def test_note(inbox, manager):
    response = call(manager, "post", f"conversations/{inbox['rows'][0].pk}/notes", {"text": "@owner глянь"})
    assert response.status_code == 201 and response.json()["direction"] == "note"
    assert "text" in fields(call(manager, "post", f"conversations/{inbox['rows'][0].pk}/notes", {"text": ""}))


def test_status(inbox, manager):
    conversation = inbox["rows"][2]
    response = call(manager, "post", f"conversations/{conversation.pk}/status", {"status": "resolved"})
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert response.json()["resolved_at"] is not None
    assert "status" in fields(
        call(manager, "post", f"conversations/{conversation.pk}/status", {"status": "gone"})
    )
    assert "status" in fields(call(manager, "post", f"conversations/{conversation.pk}/status", {}))


def test_assign(inbox, manager, cast):
    conversation = inbox["rows"][0]
    path = f"conversations/{conversation.pk}/assign"
    agent = inbox["agent"]
    response = call(manager, "post", path, {"membership_id": agent.pk})
    assert response.status_code == 200 and response.json()["assignee_id"] == agent.pk
    assert response.json()["assignee"] == "Agent"
    assert call(manager, "post", path, {"membership_id": None}).json()["assignee_id"] is None
    outsider = Membership.objects.get(workspace=cast.other)
    assert "membership_id" in fields(call(manager, "post", path, {"membership_id": outsider.pk}))
    assert "membership_id" in fields(call(manager, "post", path, {"membership_id": 10**30}))
    viewer = Membership.objects.get(workspace=cast.workspace, role="viewer")
    assert "membership_id" in fields(call(manager, "post", path, {"membership_id": viewer.pk}))
    assert "membership_id" in fields(call(manager, "post", path, {}))
    assert "membership_id" in fields(call(manager, "post", path, {"membership_id": "agent"}))


def test_hand_off_and_answer(inbox, manager, cast, login):
    conversation = inbox["rows"][2]
    response = call(
        manager,
        "post",
        f"conversations/{conversation.pk}/handoffs",
        {"department_id": inbox["reception"].pk, "note": "Перенесите запись"},
    )
    assert response.status_code == 201, response.content
    handoff = response.json()
    assert handoff["department"] == "Reception" and handoff["answer"] == ""
    assert "reply_token" not in handoff
    conversation.refresh_from_db()
    assert conversation.status == "waiting_department"

    agent = login(cast.users["agent"])
    answered = call(agent, "post", f"handoffs/{handoff['id']}/answer", {"text": "Перенесли на 15:00"})
    assert answered.status_code == 200, answered.content
    assert answered.json()["answer"] == "Перенесли на 15:00"
    assert answered.json()["answered_by"] == cast.users["agent"].email
    conversation.refresh_from_db()
    assert conversation.status == "open"
    again = call(agent, "post", f"handoffs/{handoff['id']}/answer", {"text": "Другой ответ"})
    assert "text" in fields(again)
    assert call(agent, "post", f"handoffs/{10**30}/answer", {"text": "x"}).status_code == 404


def test_hand_off_refusals(inbox, manager):
    path = f"conversations/{inbox['rows'][0].pk}/handoffs"
    assert "department_id" in fields(
        call(manager, "post", path, {"department_id": inbox["foreign_department"].pk})
    )
    assert "department_id" in fields(call(manager, "post", path, {"department_id": 10**30}))
    assert "department_id" in fields(call(manager, "post", path, {}))
    assert "note" in fields(call(manager, "post", path, {"department_id": inbox["quality"].pk, "note": 5}))
    assert not HandOff.objects.exists()


ODD_BODIES = ["", "null", "[]", '"text"', "{", "1e999", '{"text": "a"', "\xff\xfe", '{"text": "\\ud800"}']


@pytest.mark.parametrize("raw", ODD_BODIES)
def test_odd_bodies_never_500(inbox, manager, raw):
    conversation = inbox["rows"][0].pk
    handoff = HandOff.objects.create(
        conversation=inbox["rows"][0], department=inbox["quality"], reply_token="t1"
    )
    for path in ("replies", "notes", "status", "assign", "handoffs"):
        response = call(manager, "post", f"conversations/{conversation}/{path}", raw=raw)
        assert response.status_code in (400, 422), (path, raw, response.status_code)
    response = call(manager, "post", f"handoffs/{handoff.pk}/answer", raw=raw)
    assert response.status_code in (400, 422)


# --- reports ---------------------------------------------------------------------------------------------


def test_report(inbox, manager, time_machine):
    response = call(manager, "get", "reports")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["conversations"] == 4
    assert {row["name"] for row in body["departments"]} == {"Reception", "Quality", "No department"}
    assert body["sla"]["measured"] == 4
    assert {row["name"]: row["conversations"] for row in body["channels"]} == {"VK": 2, "Telegram": 2}
    assert {row["role"] for row in body["agents"]} >= {"agent", "smm_manager", "owner"}


def test_report_period(inbox, manager):
    today = datetime.now(UTC).date()
    body = call(
        manager,
        "get",
        "reports",
        start=str(today - timedelta(days=400)),
        end=str(today - timedelta(days=300)),
    )
    assert body.status_code == 200 and body.json()["conversations"] == 0
    assert "end" in fields(call(manager, "get", "reports", start="2026-03-05", end="2026-03-01"))
    assert "end" in fields(call(manager, "get", "reports", start="2024-01-01", end="2026-03-01"))
    assert "start" in fields(call(manager, "get", "reports", start="yesterday"))
    assert "start" in fields(call(manager, "get", "reports", start="0001-01-01", end="0001-01-02"))
    assert "end" in fields(call(manager, "get", "reports", start="9999-12-30", end="9999-12-31"))
