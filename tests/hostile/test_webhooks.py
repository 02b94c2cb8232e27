"""The hostile corpus against every inbound webhook (/hooks/<channel id>/, one per network that takes
webhooks) and the site chat widget's endpoints.

Broken bodies, correctly signed, must get a 4xx naming the problem and leave nothing stored. Valid
deliveries carrying hostile text are accepted or refused, never a 500; an accepted one must then go
through the worker (process_raw_event) without an error and store only what PostgreSQL can hold.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

import smmdesk
from tests.corpus import bodies, strings
from tests.hostile.conftest import assert_clear_refusal, unstorable_rows

pytestmark = [pytest.mark.django_db, pytest.mark.dbqueue]

CHANNELS = Path(smmdesk.__file__).parent / "channels"
SECRET = "hostile-corpus-secret-0123456789"
# A base address the SSRF guard refuses at once: no adapter may reach a network from these tests.
NOWHERE = "http://127.0.0.1:9"
TEXT_KEYS = frozenset(
    {"text", "message", "content", "caption", "first_name", "last_name", "display_name", "name", "subject"}
)


def _fixture(path: str):
    return json.loads((CHANNELS / path).read_text())


def _hmac(body: bytes, prefix: str = "sha256=") -> str:
    return prefix + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Network:
    kind: str
    values: dict
    document: object  # a delivery as the network sends it

    def sign(self, body: bytes) -> dict:
        if self.kind == "telegram":
            return {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": SECRET}
        if self.kind == "api":
            return {"HTTP_X_SMMDESK_SIGNATURE": _hmac(body)}
        if self.kind == "mastodon":
            return {"HTTP_X_HUB_SIGNATURE": _hmac(body)}
        if self.kind in ("facebook", "instagram"):
            return {"HTTP_X_HUB_SIGNATURE_256": _hmac(body)}
        if self.kind == "fake":
            return {"HTTP_X_FAKE_SIGNATURE": _hmac(body, prefix="")}
        return {}  # vk: the secret is inside the body


NETWORKS = [
    Network(
        "api",
        {"secret": SECRET},
        {"messages": [{"id": "crm-1", "author": {"id": "c-7", "name": "Анна"}, "text": "Хочу записаться"}]},
    ),
    Network(
        "telegram",
        {
            "bot_token": "7012345678:AAF-hostile-token",
            "webhook_secret": SECRET.replace("-", "_"),
            "api_url": NOWHERE,
        },
        _fixture("telegram/tests/fixtures/updates/private_message.json"),
    ),
    Network(
        "vk",
        {"group_id": 218000111, "access_token": "vk1.a.hostile", "secret_key": SECRET, "api_url": NOWHERE},
        {**_fixture("vk/tests/fixtures/message_new.json"), "secret": SECRET},
    ),
    Network(
        "mastodon",
        {"instance_url": NOWHERE, "access_token": "hostile-token", "webhook_secret": SECRET},
        _fixture("mastodon/tests/fixtures/webhook_status_created.json"),
    ),
    Network(
        "facebook",
        {
            "page_id": "104000000000001",
            "page_access_token": "EAAG-hostile",
            "app_secret": SECRET,
            "graph_url": NOWHERE,
        },
        _fixture("facebook/tests/fixtures/webhook_feed.json"),
    ),
    Network(
        "instagram",
        {
            "ig_user_id": "17841400000000001",
            "access_token": "EAAG-hostile",
            "app_secret": SECRET,
            "graph_url": NOWHERE,
        },
        _fixture("facebook/tests/fixtures/ig_webhook_comments.json"),
    ),
    Network(
        "fake",
        {"account_id": "hostile", "api_token": "fake-token-123456", "webhook_secret": SECRET},
        [{"id": "f-1", "from": "u-1", "name": "Анна", "text": "Привет", "date": "2026-03-20T09:00:00+00:00"}],
    ),
]
IDS = [network.kind for network in NETWORKS]


@pytest.fixture
def hooked(db, world, settings):
    """network -> its channel in the world's workspace."""
    from smmdesk.channels import actions as channel_actions

    settings.SMMDESK_ALLOW_PRIVATE_URLS = False
    return lambda network: channel_actions.create_channel(
        world.cast.workspace, network.kind, f"Hooked {network.kind}", network.values
    )


def deliver(client, channel, network: Network, body: bytes):
    # The signature is the network's, so the parser and not the signature check meets the body.
    headers = network.sign(body) if network.kind != "vk" else {}
    return client.post(f"/hooks/{channel.pk}/", body, content_type="application/json", **headers)


def stored(channel):
    from smmdesk.inbox.models import RawEvent

    return RawEvent.objects.filter(channel=channel)


@pytest.mark.parametrize("network", NETWORKS, ids=IDS)
@pytest.mark.parametrize("case", bodies.broken_json(), ids=[case.name for case in bodies.broken_json()])
def test_broken_bodies_are_refused_and_nothing_is_stored(client, hooked, network, case):
    channel = hooked(network)
    response = deliver(client, channel, network, case.data)
    assert response.status_code != 500
    if response.status_code == 200:
        # Some bodies are well-formed after all (a duplicate key, an empty list): nothing to take in.
        assert response.json().get("accepted", 0) == 0 and not stored(channel).exists(), response.content
        return
    assert_clear_refusal(response)
    assert not stored(channel).exists()


@pytest.mark.parametrize("network", NETWORKS, ids=IDS)
@pytest.mark.parametrize("name", list(strings.TEXTS))
def test_hostile_text_in_a_signed_delivery(client, hooked, network, name):
    from smmdesk.inbox.ingest_tasks import process_raw_event
    from smmdesk.inbox.models import Message

    channel = hooked(network)
    body = bodies.json_bytes(bodies.with_text(network.document, strings.TEXTS[name], TEXT_KEYS))
    response = deliver(client, channel, network, body)
    if response.status_code != 200:
        assert_clear_refusal(response)
        assert not stored(channel).exists()
        return
    for raw in stored(channel):
        process_raw_event(raw.pk)  # as the worker does; must not raise
        raw.refresh_from_db()
        assert raw.processed_at is not None
    assert unstorable_rows() == []
    if name in ("rtl_override", "emoji_zwj", "html", "formula"):
        # Text that is odd but harmless is taken in as it is.
        texts = list(Message.objects.filter(channel=channel).values_list("text", flat=True))
        assert any(strings.TEXTS[name].strip() in text for text in texts) or network.kind == "mastodon", texts


# --- the site chat widget --------------------------------------------------------------------------------


@pytest.fixture
def chat(db, world):
    """(client, the widget's base address, a visitor token) with a fresh cache (the rate limits)."""
    from django.core.cache import cache
    from django.test import Client

    from smmdesk.channels import actions as channel_actions

    cache.clear()
    widget = channel_actions.create_channel(
        world.cast.workspace, "webchat", "Site chat", {"allowed_origins": "https://salon.example"}
    )
    client = Client(raise_request_exception=True, HTTP_ORIGIN="https://salon.example")
    base = f"/hooks/chat/{widget.config['public_key']}/"
    visitor = client.post(base + "session").json()["visitor"]
    yield client, base, visitor
    cache.clear()


@pytest.mark.parametrize("case", bodies.broken_json(), ids=[case.name for case in bodies.broken_json()])
def test_chat_refuses_broken_bodies(chat, case):
    from smmdesk.inbox.models import Message

    client, base, visitor = chat
    response = client.post(
        base + "messages", case.data, content_type="application/json", headers={"X-Smmdesk-Visitor": visitor}
    )
    if case.name in bodies.READABLE and response.status_code == 201:
        return
    assert_clear_refusal(response)
    assert not Message.objects.filter(channel__kind="webchat").exists()


@pytest.mark.parametrize("field", ["text", "name", "email", "page", "client_id"])
@pytest.mark.parametrize("name", list(strings.TEXTS))
def test_chat_takes_or_refuses_hostile_fields(chat, field, name):
    client, base, visitor = chat
    data = {"text": "Здравствуйте", field: strings.TEXTS[name]}
    response = client.post(
        base + "messages",
        bodies.json_bytes(data),
        content_type="application/json",
        headers={"X-Smmdesk-Visitor": visitor},
    )
    if response.status_code >= 400:
        # The whole body has a size limit of its own, below the huge text.
        assert response.json()["field"] in (field, "body"), response.json()
    else:
        assert response.status_code in (200, 201), response.content
    assert unstorable_rows() == []


@pytest.mark.parametrize("name", ["nul", "rtl_override", "huge", "html", "line_breaks"])
def test_chat_refuses_a_hostile_visitor_token(chat, name):
    client, base, _visitor = chat
    value = strings.TEXTS[name].replace("\x00", "%00").replace("\r", "").replace("\n", "")
    value = value.encode("utf-8").decode("latin-1")  # a header carries bytes; Django reads them as latin-1
    response = client.get(base + "messages", headers={"X-Smmdesk-Visitor": value})
    assert 400 <= response.status_code < 500
