"""The site chat widget's adapter and public endpoints: sessions, messages, polling, CORS, rate limits and
hostile input."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from smmdesk.channels import actions as channel_actions
from smmdesk.channels.base import Capability, OutboundReply
from smmdesk.channels.forms import build_form_class
from smmdesk.channels.models import Channel
from smmdesk.channels.webchat import chat
from smmdesk.channels.webchat.adapter import WebchatAdapter, WebchatConfig, normalise_origin
from smmdesk.inbox.models import Conversation, Customer, Message

SITE = "https://salon.example"
EVIL = "https://evil.example"
VISITOR = "X-Smmdesk-Visitor"
START = datetime(2026, 4, 6, 10, 0, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def widget(cast):
    return channel_actions.create_channel(
        cast.workspace,
        "webchat",
        "Site chat",
        {"allowed_origins": f"{SITE}, https://www.salon.example", "greeting": "Здравствуйте!"},
    )


@pytest.fixture
def base(widget):
    return f"/hooks/chat/{widget.config['public_key']}/"


def start(client, base, **headers):
    response = client.post(base + "session", headers=headers)
    assert response.status_code == 200, response.content
    return response.json()["visitor"]


def send(client, base, token, text="Здравствуйте, есть окно в субботу?", **fields):
    return client.post(
        base + "messages",
        data={"text": text, **fields},
        content_type="application/json",
        headers={VISITOR: token},
    )


def poll(client, base, token, after=0):
    return client.get(base + "messages", {"after": after}, headers={VISITOR: token})


# The adapter


def test_config_defaults_and_origins():
    first, second = WebchatConfig(), WebchatConfig()
    assert first.public_key != second.public_key and len(first.public_key) >= 16
    config = WebchatConfig(
        allowed_origins="https://Salon.example/, http://localhost:8080,https://salon.example"
    )
    assert config.allowed_origins == "https://salon.example, http://localhost:8080"
    assert config.origins() == {"https://salon.example", "http://localhost:8080"}
    for bad in ("salon.example", "https://salon.example/chat", "ftp://salon.example", "javascript:alert(1)"):
        with pytest.raises(ValueError, match="Not a site address"):
            WebchatConfig(allowed_origins=bad)
    assert normalise_origin("https://salon.example:443") == "https://salon.example"
    assert normalise_origin("http://[::1]:8000") == "http://[::1]:8000"


def test_send_reply_is_delivered_by_being_stored():
    adapter = WebchatAdapter(WebchatConfig())
    ref = adapter.send_reply(OutboundReply(text="Да", thread_id="v123", idempotency_key="k1"))
    assert ref.external_id == "webchat-out-k1"
    assert adapter.send_reply(OutboundReply(text="Да", thread_id="v123", idempotency_key="k1")) == ref
    assert {Capability.INBOX, Capability.REPLY} == set(WebchatAdapter.capabilities)


def test_registered_with_a_generated_form(cast):
    assert "webchat" in [k.kind for k in channel_actions.describe_kinds()]
    form_class = build_form_class(WebchatAdapter)
    assert {"public_key", "allowed_origins", "greeting", "title"} <= set(form_class.base_fields)
    # The add form starts with a fresh key, so people need not invent one.
    assert len(form_class.base_fields["public_key"].initial) >= 16


# Endpoints: lookup and origins


def test_config_endpoint(client, base):
    response = client.get(base + "config", headers={"Origin": SITE})
    assert response.status_code == 200
    data = response.json()
    assert data["title"] == "Salon Leninsky"  # the business name when the channel sets no title
    assert data["greeting"] == "Здравствуйте!"
    assert data["labels"]["send"]
    assert response["Access-Control-Allow-Origin"] == SITE
    # Cached per site and per language, since the labels are translated.
    assert {"Origin", "Accept-Language"} <= {v.strip() for v in response["Vary"].split(",")}


def test_unknown_or_disabled_widget_is_404(client, widget, base):
    assert client.get("/hooks/chat/not-a-real-key-1234567/config").status_code == 404
    assert client.get("/hooks/chat/short/config").status_code == 404
    assert client.get("/hooks/chat/not-a-real-key-1234567/widget.js").status_code == 404
    Channel.objects.filter(pk=widget.pk).update(status=Channel.Status.DISABLED)
    assert client.post(base + "session").status_code == 404


def test_other_sites_are_refused(client, base):
    for method, path in (("get", "config"), ("post", "session"), ("options", "messages")):
        response = getattr(client, method)(base + path, headers={"Origin": EVIL})
        assert response.status_code == 403, path
        assert "Access-Control-Allow-Origin" not in response
    # Our own pages (the landing pages) need no entry in the list.
    response = client.post(base + "session", headers={"Origin": "http://testserver"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_preflight_for_an_allowed_site(client, base):
    response = client.options(
        base + "messages",
        headers={
            "Origin": "https://www.salon.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": f"content-type, {VISITOR.lower()}",
        },
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://www.salon.example"
    assert VISITOR in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Origin" in response["Vary"]


def test_wrong_method(client, base):
    response = client.get(base + "session")
    assert response.status_code == 405
    assert response.json()["field"] == "method"


def test_widget_script_and_stylesheet(client, base):
    response = client.get(base + "widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert VISITOR in body and "textContent" in body
    assert "innerHTML" not in body and "eval(" not in body
    response = client.get(base + "widget.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")


# Sessions


def test_session_keeps_a_valid_visitor_and_replaces_a_forged_one(client, widget, base):
    token = start(client, base)
    cookie = client.cookies[f"smmdesk_chat_{widget.pk}"]
    assert cookie.value == token and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert start(client, base, **{VISITOR: token}) == token
    visitor = token.split(":")[0]
    forged = start(client, base, **{VISITOR: f"{visitor}:forged-signature"})
    assert forged != token and not forged.startswith(visitor)
    # A token of another widget is not valid here.
    other = channel_actions.create_channel(widget.workspace, "webchat", "Other site", {})
    assert start(client, f"/hooks/chat/{other.config['public_key']}/", **{VISITOR: token}) != token


def test_opening_the_chat_stores_nothing(client, base):
    start(client, base)
    assert Customer.objects.count() == 0 and Conversation.objects.count() == 0


# Messages


def test_visitor_message_lands_in_the_inbox(client, widget, base):
    token = start(client, base)
    response = send(client, base, token, name="Мария", email="maria@example.com")
    assert response.status_code == 201
    shown = response.json()["message"]
    assert shown["from"] == "visitor" and shown["text"].startswith("Здравствуйте")
    message = Message.objects.get(pk=shown["id"])
    visitor = token.split(":")[0]
    assert message.channel_id == widget.pk and message.direction == Message.Direction.IN
    assert message.conversation.kind == "chat"
    assert message.conversation.thread_key == f"chat:{visitor}"
    assert message.author_name == "Мария"
    customer = message.conversation.customer
    assert (customer.name, customer.email) == ("Мария", "maria@example.com")
    # Only the id is stored; the signature that proves it stays with the visitor.
    assert not Message.objects.filter(author_external_id__contains=":").exists()


@pytest.mark.parametrize(
    "page,tag",
    [
        ("/site/salon/zhenskaya-strizhka/", "zhenskaya-strizhka"),
        ("/zhenskaya-strizhka/index.html", "zhenskaya-strizhka"),
        ("/Zhenskaya-Strizhka?utm_source=vk#top", "zhenskaya-strizhka"),
        ("/", ""),
        ("/site/salon/<script>/", ""),
        (["not", "a", "path"], ""),
        ("/" + "a" * 600 + "/", ""),
    ],
)
def test_the_page_a_chat_started_on_tags_the_conversation_once(client, base, page, tag):
    token = start(client, base)
    for text in ("Здравствуйте", "Есть окно в субботу?"):
        assert send(client, base, token, text=text, page=page).status_code == 201
    assert Conversation.objects.get().tags == ([tag] if tag else [])


def test_resent_message_counts_once(client, base):
    token = start(client, base)
    for _ in range(3):
        assert send(client, base, token, client_id="abcdef123456").status_code == 201
    assert Message.objects.count() == 1


def test_poll_shows_the_conversation_but_no_notes_or_failed_replies(client, cast, base):
    token = start(client, base)
    first = send(client, base, token, text="Вопрос").json()["message"]["id"]
    message = Message.objects.get(pk=first)
    conversation = message.conversation

    def add(direction, text, delivery):
        return Message.objects.create(
            workspace=cast.workspace,
            channel=message.channel,
            conversation=conversation,
            direction=direction,
            text=text,
            delivery=delivery,
            author_name="Agent Smith",
        )

    reply = add(Message.Direction.OUT, "Ответ", Message.Delivery.SENT)
    add(Message.Direction.NOTE, "internal: VIP, be nice", Message.Delivery.RECEIVED)
    add(Message.Direction.OUT, "failed one", Message.Delivery.FAILED)
    pending = add(Message.Direction.OUT, "on its way", Message.Delivery.PENDING)

    data = poll(client, base, token).json()["messages"]
    assert [m["text"] for m in data] == ["Вопрос", "Ответ", "on its way"]
    assert [m["from"] for m in data] == ["visitor", "business", "business"]
    assert "Agent Smith" not in str(data)
    assert [m["id"] for m in poll(client, base, token, after=reply.pk).json()["messages"]] == [pending.pk]
    # Another visitor (another browser: no cookie) sees nothing of it.
    client.cookies.clear()
    assert poll(client, base, start(client, base)).json()["messages"] == []


def test_agent_reply_reaches_the_visitor(client, cast, base):
    from smmdesk.inbox import actions as inbox_actions
    from smmdesk.inbox import reply_tasks

    token = start(client, base)
    send(client, base, token, text="Сколько стоит стрижка?")
    conversation = Conversation.objects.get()
    agent = cast.users["agent"].memberships.get(workspace=cast.workspace)
    reply = inbox_actions.reply(conversation, agent, "1200 ₽")
    assert reply_tasks.deliver(reply.pk) == "sent"
    reply.refresh_from_db()
    assert reply.external_id == f"webchat-out-{reply.idempotency_key}"
    assert [m["text"] for m in poll(client, base, token).json()["messages"]] == [
        "Сколько стоит стрижка?",
        "1200 ₽",
    ]


def test_messages_need_a_valid_visitor(client, base):
    assert send(client, base, "").status_code == 401
    token = start(client, base)
    assert poll(client, base, token + "x").status_code == 401
    assert poll(client, base, token, after="-1").status_code == 400
    assert poll(client, base, token, after="abc").json()["field"] == "after"


def test_cookie_identifies_the_visitor_on_our_own_pages(client, base):
    start(client, base)  # sets the cookie on the test client
    response = client.post(base + "messages", data={"text": "hi"}, content_type="application/json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"text": ""}, "text"),
        ({"text": "   \n "}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": 5}, "text"),
        ({"text": "a\u0000b"}, "text"),
        ({"text": "\ud83d"}, "text"),
        ({"text": "hi", "name": "n" * 101}, "name"),
        ({"text": "hi", "name": "\u0000"}, "name"),
        ({"text": "hi", "email": "not-an-address"}, "email"),
        ({"text": "hi", "email": "a@b.c" + "x" * 300}, "email"),
        ({"text": "hi", "client_id": "../../etc"}, "client_id"),
    ],
)
def test_bad_input_names_the_field(client, base, fields, field):
    token = start(client, base)
    response = send(client, base, token, **fields)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["message"]
    assert Message.objects.count() == 0


def test_malformed_and_oversized_bodies(client, base):
    token = start(client, base)
    for body, status in (
        (b"{nope", 400),
        (b"[1, 2]", 400),
        (b"\xff", 400),
        (b"{" + b" " * 20000 + b"}", 413),
    ):
        response = client.post(
            base + "messages", data=body, content_type="application/json", headers={VISITOR: token}
        )
        assert response.status_code == status, body[:10]
    assert Message.objects.count() == 0


def test_hostile_text_is_stored_and_returned_as_text(client, base):
    token = start(client, base)
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    response = send(client, base, token, text=payload, name="<b>Bob</b>")
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.json()["message"]["text"] == payload
    assert Message.objects.get().text == payload
    assert poll(client, base, token).json()["messages"][0]["text"] == payload


# Rate limits


def test_visitor_rate_limit_resets_after_a_minute(client, base, time_machine):
    time_machine.move_to(START, tick=False)
    token = start(client, base)
    for i in range(chat.LIMITS["send_visitor"]):
        assert send(client, base, token, text=f"msg {i}").status_code == 201
    response = send(client, base, token, text="one too many")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Message.objects.count() == chat.LIMITS["send_visitor"]
    time_machine.move_to(START + timedelta(seconds=61), tick=False)
    assert send(client, base, token, text="after the pause").status_code == 201


def test_address_rate_limit_covers_many_visitors(client, base, monkeypatch, time_machine):
    time_machine.move_to(START, tick=False)
    monkeypatch.setitem(chat.LIMITS, "send_ip", 3)
    monkeypatch.setitem(chat.LIMITS, "session_ip", 5)

    def new_visitor():
        client.cookies.clear()  # a fresh browser each time
        return start(client, base)

    visitors = {new_visitor() for _ in range(4)}
    assert len(visitors) == 4
    outcomes = [send(client, base, token, text="bot").status_code for token in sorted(visitors)]
    assert outcomes == [201, 201, 201, 429]
    new_visitor()
    client.cookies.clear()
    assert client.post(base + "session").status_code == 429


def test_poll_rate_limit(client, base, monkeypatch, time_machine):
    time_machine.move_to(START, tick=False)
    monkeypatch.setitem(chat.LIMITS, "poll_visitor", 2)
    token = start(client, base)
    assert poll(client, base, token).status_code == 200
    assert poll(client, base, token).status_code == 200
    assert poll(client, base, token).status_code == 429
