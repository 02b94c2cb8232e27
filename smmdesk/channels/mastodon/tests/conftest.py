"""Fixtures for the Mastodon adapter: payloads shaped like docs.joinmastodon.org, a scripted local server
(mock_api), and mastodon-mock, a Mastodon API server that runs here on loopback."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from django.core.cache import cache

from smmdesk.channels.mastodon import adapter as mastodon_adapter
from smmdesk.channels.mastodon import client as mastodon_client
from smmdesk.channels.mastodon.adapter import MastodonAdapter, MastodonConfig

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "masto-token-Zx81-0123456789abcdef"
SHOP_ID = "109348745392010001"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _fresh_limits(monkeypatch):
    """Each test starts with an empty cache (rate-limit windows, remembered accounts) and a limiter
    budget no test reaches, unless it sets the real one; nothing sleeps on the clock."""
    cache.clear()
    sleeps: list[float] = []
    monkeypatch.setattr(mastodon_client, "REQUESTS_PER_SECOND", 1000.0)
    monkeypatch.setattr(mastodon_client, "_sleep", sleeps.append)
    monkeypatch.setattr(mastodon_adapter, "_sleep", sleeps.append)
    yield sleeps
    cache.clear()


@pytest.fixture
def make_adapter(mock_api):
    def make(token: str = TOKEN, channel_id: int | None = 7, **extra) -> MastodonAdapter:
        config = MastodonConfig(**{"instance_url": mock_api.base, "access_token": token, **extra})
        return MastodonAdapter(config, channel_id=channel_id)

    return make


def answer(body, status: int = 200, headers: dict | None = None):
    return lambda request: (status, headers or {}, body)


@pytest.fixture
def masto(mock_api):
    """mock_api with the calls every test needs: who we are."""
    mock_api.route("GET", "/api/v1/accounts/verify_credentials")(answer(load("verify_credentials.json")))
    return mock_api


# --- mastodon-mock: a real Mastodon API server on loopback -------------------------------------------


@pytest.fixture
def mastodon_server(settings):
    """A fresh mastodon-mock server (in-memory SQLite) on a free loopback port, with three accounts
    seeded the way its docs say (SeedAccount with an access token): the shop, a customer, a fan.
    Yields its base URL; stopped after the test."""
    import uvicorn
    from mastodon_mock.app import create_app
    from mastodon_mock.config import (
        DatabaseConfig,
        MastodonMockConfig,
        SeedAccount,
        SeedConfig,
        StreamingConfig,
    )

    settings.SMMDESK_ALLOW_PRIVATE_URLS = True
    config = MastodonMockConfig(
        database=DatabaseConfig(path=":memory:"),
        seed=SeedConfig(
            accounts=[
                SeedAccount(username="shop", display_name="Салон", access_token="shop-token-123456"),
                SeedAccount(username="anna", display_name="Анна", access_token="anna-token-123456"),
                SeedAccount(username="fan", display_name="Fan", access_token="fan-token-123456"),
            ]
        ),
        streaming=StreamingConfig(enabled=False),
    )
    started = threading.Event()

    class Server(uvicorn.Server):
        # Told when it listens, so the fixture waits on an event, not on the clock.
        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            started.set()

    server = Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    if not started.wait(20):
        server.should_exit = True
        raise RuntimeError("mastodon-mock did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
