"""Shared pieces of the X tests: payload fixtures shaped like X's API v2 documentation, a clean cache
(tokens, rate-limit windows and the cached account live there) and recorded client-side pacing."""

import json
from pathlib import Path

import pytest
from django.core.cache import cache

from smmdesk.channels.x import client

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "x-access-token-Az09-0123456789abcdef"
REFRESH = "x-refresh-token-Qw12-0123456789abcdef"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def ok(name: str, status: int = 200, headers: dict | None = None):
    """A handler answering with a fixture."""
    return lambda request: (status, headers or {}, fixture(name))


@pytest.fixture(autouse=True)
def paced(monkeypatch):
    """The client-side pacing's waits, recorded instead of slept; a fresh cache for every test.

    Without real sleeps every call of a test lands in the same second, so the budget is opened wide here;
    the pacing test sets the real one back."""
    cache.clear()
    waits: list[float] = []
    monkeypatch.setattr(client, "_pause", waits.append)
    monkeypatch.setattr(client, "PER_SECOND", 1000.0)
    yield waits
    cache.clear()


@pytest.fixture
def make_adapter(mock_api):
    from smmdesk.channels.x.adapter import XAdapter, XConfig

    def make(**over):
        values = {"access_token": TOKEN, "api_url": mock_api.base, **over}
        return XAdapter(XConfig(**values))

    return make


@pytest.fixture
def me(mock_api):
    mock_api.route("GET", "/2/users/me")(ok("users_me"))
    return fixture("users_me")["data"]
