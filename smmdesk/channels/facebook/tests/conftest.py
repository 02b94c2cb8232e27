"""Shared pieces of the Facebook and Instagram tests: payload fixtures shaped like Meta's Graph API and
webhook documentation, signing like Meta does, a clean cache and recorded client-side pacing."""

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from django.core.cache import cache

from smmdesk.channels.facebook import graph

FIXTURES = Path(__file__).parent / "fixtures"
VERSION = graph.DEFAULT_VERSION
PAGE_ID = "104000000000001"
IG_ID = "17841400000000001"
PAGE_TOKEN = "EAAGpage-token-Zx81-0123456789abcdef"
IG_TOKEN = "EAAGig-token-Qp55-0123456789abcdef"
APP_SECRET = "meta-app-secret-0123456789abcdef"
VERIFY = "verify-me-7781"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def raw(name: str) -> bytes:
    # Signed exactly as stored: Meta signs the raw bytes, whitespace and all.
    return (FIXTURES / f"{name}.json").read_bytes()


def ok(name: str, status: int = 200, headers: dict | None = None):
    return lambda request: (status, headers or {}, fixture(name))


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def path(*parts: str) -> str:
    return "/" + "/".join([VERSION, *parts])


@pytest.fixture(autouse=True)
def paced(monkeypatch):
    """Pacing waits recorded instead of slept, the budget opened wide (no real sleeps means every call of
    a test lands in the same second; the pacing test sets the real one back), a fresh cache."""
    cache.clear()
    waits: list[float] = []
    monkeypatch.setattr(graph, "_pause", waits.append)
    monkeypatch.setattr(graph, "PER_SECOND", 1000.0)
    yield waits
    cache.clear()


@pytest.fixture
def facebook(mock_api):
    from smmdesk.channels.facebook.adapter import FacebookAdapter, FacebookConfig

    def make(**over):
        values = {
            "page_id": PAGE_ID,
            "page_access_token": PAGE_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY,
            "graph_url": mock_api.base,
            **over,
        }
        return FacebookAdapter(FacebookConfig(**values))

    return make


@pytest.fixture
def instagram(mock_api):
    from smmdesk.channels.facebook.instagram import InstagramAdapter, InstagramConfig

    def make(**over):
        values = {
            "ig_user_id": IG_ID,
            "access_token": IG_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY,
            "graph_url": mock_api.base,
            **over,
        }
        return InstagramAdapter(InstagramConfig(**values))

    return make
