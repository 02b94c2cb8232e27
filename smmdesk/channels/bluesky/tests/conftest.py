"""Fixtures for the Bluesky adapter: a small stateful PDS played by mock_api, answering XRPC calls with
payloads shaped like the atproto lexicons and Bluesky's API docs (sessions, repo records, blobs), plus
AppView answers from fixture files."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import pytest
from django.core.cache import cache

from smmdesk.channels.bluesky import xrpc as bluesky_xrpc
from smmdesk.channels.bluesky.adapter import BlueskyAdapter, BlueskyConfig

FIXTURES = Path(__file__).parent / "fixtures"
DID = "did:plc:shop4salon2leninsky"
HANDLE = "salon.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"
HANDLES = {HANDLE: DID, "anna.bsky.social": "did:plc:anna7customer"}


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def error(status: int, name: str, message: str, headers: dict | None = None):
    return status, headers or {}, {"error": name, "message": message}


class FakePDS:
    """Sessions, records and blobs of one account, kept the way a PDS keeps them."""

    def __init__(self, api):
        self.api = api
        self.base = api.base
        self.password = PASSWORD
        self.ids = itertools.count(1)
        self.access: set[str] = set()
        self.expired: set[str] = set()
        self.refresh: set[str] = set()
        self.records: dict[tuple[str, str], dict] = {}
        self.blobs: list[tuple[str, bytes]] = []
        self.logins = 0
        for method, nsid, handler in (
            ("POST", "com.atproto.server.createSession", self.create_session),
            ("POST", "com.atproto.server.refreshSession", self.refresh_session),
            ("GET", "com.atproto.server.getSession", self.get_session),
            ("GET", "app.bsky.actor.getProfile", self.get_profile),
            ("GET", "com.atproto.identity.resolveHandle", self.resolve_handle),
            ("POST", "com.atproto.repo.uploadBlob", self.upload_blob),
            ("POST", "com.atproto.repo.createRecord", self.create_record),
            ("POST", "com.atproto.repo.putRecord", self.put_record),
            ("GET", "com.atproto.repo.getRecord", self.get_record),
            ("POST", "com.atproto.repo.deleteRecord", self.delete_record),
            ("GET", "app.bsky.feed.getPosts", self.get_posts),
            ("GET", "app.bsky.notification.listNotifications", self.list_notifications),
        ):
            api.route(method, f"/xrpc/{nsid}")(handler)

    # --- sessions ---------------------------------------------------------------------------------------

    def _issue(self):
        n = next(self.ids)
        access, refresh = f"access-jwt-{n:04d}-xxxxxxxx", f"refresh-jwt-{n:04d}-yyyyyyyy"
        self.access.add(access)
        self.refresh.add(refresh)
        return (
            200,
            {},
            {"accessJwt": access, "refreshJwt": refresh, "handle": HANDLE, "did": DID, "active": True},
        )

    def create_session(self, request):
        body = request.json()
        if body.get("identifier") not in (HANDLE, DID) or body.get("password") != self.password:
            return error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.logins += 1
        return self._issue()

    def refresh_session(self, request):
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.refresh:
            return error(400, "ExpiredToken", "Token has expired")
        self.refresh.discard(token)  # refresh tokens are single use
        return self._issue()

    def expire_all(self):
        self.expired |= self.access
        self.access.clear()

    def revoke_all(self):
        self.access.clear()
        self.refresh.clear()

    def authorized(self, request):
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token in self.access:
            return None
        if token in self.expired:
            return error(400, "ExpiredToken", "Token has expired")
        return error(401, "InvalidToken", "Token could not be verified")

    # --- identity ---------------------------------------------------------------------------------------

    def get_session(self, request):
        return self.authorized(request) or (200, {}, {"handle": HANDLE, "did": DID, "active": True})

    def get_profile(self, request):
        return self.authorized(request) or (
            200,
            {},
            {"did": DID, "handle": HANDLE, "displayName": "Салон «Ленинский»", "followersCount": 120},
        )

    def resolve_handle(self, request):
        did = HANDLES.get(request.query["handle"][0])
        return (200, {}, {"did": did}) if did else error(400, "InvalidRequest", "Unable to resolve handle")

    # --- the repository ---------------------------------------------------------------------------------

    def upload_blob(self, request):
        if refused := self.authorized(request):
            return refused
        cid = "bafkrei" + hashlib.sha256(request.body).hexdigest()[:40]
        self.blobs.append((request.headers["content-type"], request.body))
        blob = {
            "$type": "blob",
            "ref": {"$link": cid},
            "mimeType": request.headers["content-type"],
            "size": len(request.body),
        }
        return 200, {}, {"blob": blob}

    def _uri(self, collection, rkey):
        return f"at://{DID}/{collection}/{rkey}"

    def create_record(self, request):
        if refused := self.authorized(request):
            return refused
        body = request.json()
        rkey = body.get("rkey") or f"3kgen{next(self.ids):08d}"
        key = (body["collection"], rkey)
        if key in self.records:
            return error(400, "InvalidRequest", f"Record already exists: {self._uri(*key)}")
        cid = "bafyrei" + hashlib.sha256(json.dumps(body["record"]).encode()).hexdigest()[:40]
        self.records[key] = {"uri": self._uri(*key), "cid": cid, "value": body["record"]}
        return 200, {}, {"uri": self._uri(*key), "cid": cid, "validationStatus": "valid"}

    def put_record(self, request):
        if refused := self.authorized(request):
            return refused
        body = request.json()
        key = (body["collection"], body["rkey"])
        self.records[key] = {"uri": self._uri(*key), "cid": "bafyreiput", "value": body["record"]}
        return 200, {}, {"uri": self._uri(*key), "cid": "bafyreiput"}

    def get_record(self, request):
        if refused := self.authorized(request):
            return refused
        key = (request.query["collection"][0], request.query["rkey"][0])
        if key not in self.records:
            return error(400, "RecordNotFound", f"Could not locate record: {self._uri(*key)}")
        return 200, {}, self.records[key]

    def delete_record(self, request):
        if refused := self.authorized(request):
            return refused
        body = request.json()
        self.records.pop((body["collection"], body["rkey"]), None)
        return 200, {}, {}

    def list_notifications(self, request):
        return self.authorized(request) or (200, {}, load("listNotifications.json"))

    def posts(self, collection="app.bsky.feed.post"):
        return [r for (c, _), r in self.records.items() if c == collection]

    def get_posts(self, request):
        views = {p["uri"]: p for p in load("getPosts.json")["posts"] + load("getPosts_reply.json")["posts"]}
        for record in self.posts():
            views[record["uri"]] = {
                "uri": record["uri"],
                "cid": record["cid"],
                "author": {"did": DID, "handle": HANDLE},
                "record": record["value"],
                "likeCount": 0,
                "repostCount": 0,
                "replyCount": 0,
                "quoteCount": 0,
                "indexedAt": record["value"]["createdAt"],
            }
        return 200, {}, {"posts": [views[u] for u in request.query.get("uris", []) if u in views]}


@pytest.fixture(autouse=True)
def _fresh_limits(monkeypatch):
    """An empty cache (sessions, limiter windows) per test; a limiter budget no test reaches unless it sets
    the real one; nothing sleeps on the clock."""
    cache.clear()
    sleeps: list[float] = []
    monkeypatch.setattr(bluesky_xrpc, "REQUESTS_PER_SECOND", 1000.0)
    monkeypatch.setattr(bluesky_xrpc, "WRITES_PER_SECOND", 1000.0)
    monkeypatch.setattr(bluesky_xrpc, "LOGINS_PER_SECOND", 1000.0)
    monkeypatch.setattr(bluesky_xrpc, "_sleep", sleeps.append)
    yield sleeps
    cache.clear()


@pytest.fixture
def pds(mock_api):
    return FakePDS(mock_api)


@pytest.fixture
def make_adapter(mock_api):
    def make(password: str = PASSWORD, channel_id: int | None = 7, **extra) -> BlueskyAdapter:
        values = {
            "identifier": HANDLE,
            "app_password": password,
            "pds_url": mock_api.base,
            "appview_url": mock_api.base,
            **extra,
        }
        return BlueskyAdapter(BlueskyConfig(**values), channel_id=channel_id)

    return make


def answer(body, status: int = 200, headers: dict | None = None):
    return lambda request: (status, headers or {}, body)
