"""XRPC calls to a Bluesky PDS with an app-password session, and what their errors mean for a channel.

The session (accessJwt for calls, refreshJwt to renew it) lives on the client and, encrypted, in Django's
cache under the channel, so every worker reuses one session instead of logging in per task:
createSession is limited to 30 a 5 minutes per account. An expired access token is renewed with
refreshSession; a refused refresh logs in again with the app password; a refused app password means the
owner must reconnect. Tokens never appear in an error message or a log line.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime

import httpx
from django.core.cache import cache

from smmdesk.channels import ratelimit
from smmdesk.channels.base import AdapterError
from smmdesk.lib import crypto, http

# Documented limits: 3000 requests a 5 minutes per client; 5000 write points an hour, a created record
# costing 3; 30 createSession calls a 5 minutes per account.
REQUESTS_PER_SECOND = 10.0
WRITES_PER_SECOND = 0.4
LOGINS_PER_SECOND = 0.1
SESSION_TTL = 30 * 24 * 3600
_sleep = time.sleep  # replaced by tests

# Errors that say the login itself is no longer accepted: the owner must act.
_RECONNECT = {"AuthenticationRequired", "AccountTakedown", "AccountDeactivated", "InvalidPassword"}
# Errors that say only this access token is done: renew it.
_EXPIRED = {"ExpiredToken"}
_STALE = {"InvalidToken", "AuthenticationRequired"}


class XRPCError(AdapterError):
    """An AdapterError that keeps the network's error name (RecordNotFound, ExpiredToken...)."""

    def __init__(self, message: str, error: str = "", status: int | None = None, **flags):
        super().__init__(message, **flags)
        self.error = error
        self.status = status


def _reset_in(value: str | None) -> float | None:
    """Seconds until `ratelimit-reset`, a Unix time in seconds."""
    try:
        return max(1.0, float(value) - time.time()) if value else None
    except ValueError:
        return None


def classify(response: httpx.Response, what: str) -> XRPCError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    error = str(body.get("error") or "")
    detail = str(body.get("message") or "")[:300]
    message = f"bluesky {what}: HTTP {status} {error} {detail}".rstrip()
    if status == 429 or error == "RateLimitExceeded":
        wait = http.parse_retry_after(response.headers.get("Retry-After"))
        if wait is None:
            wait = _reset_in(response.headers.get("ratelimit-reset"))
        return XRPCError(message, error, status, retry_after=wait if wait is not None else 60.0)
    if error in _RECONNECT or status == 401:
        return XRPCError(message, error, status, reconnect=True)
    if status in (408, 425) or status >= 500:
        return XRPCError(message, error, status)
    return XRPCError(message, error, status, permanent=True)


class XRPC:
    def __init__(self, pds_url: str, identifier: str, password: str, channel_id: int | None):
        self.pds = pds_url.rstrip("/")
        self.identifier = identifier.strip().lstrip("@")
        self._password = password
        fingerprint = hashlib.sha256(f"{self.pds}|{self.identifier}|{password}".encode()).hexdigest()[:20]
        # A new app password or account makes a new key: an old session is never used for it.
        self.cache_key = f"bluesky:session:{channel_id}:{fingerprint}"
        self.rate_key = f"bluesky:{fingerprint}"
        self._session: dict | None = None

    # --- the session --------------------------------------------------------------------------------

    @property
    def did(self) -> str:
        return self.session()["did"]

    @property
    def handle(self) -> str:
        return self.session().get("handle") or self.identifier

    def session(self) -> dict:
        if self._session is None:
            self._session = self._cached() or self._login()
        return self._session

    def _cached(self) -> dict | None:
        stored = cache.get(self.cache_key)
        if not stored:
            return None
        try:
            session = json.loads(crypto.decrypt(stored))
        except ValueError:
            return None  # another encryption key: log in again
        return session if isinstance(session, dict) and session.get("accessJwt") else None

    def _keep(self, answer: dict, what: str) -> dict:
        if not isinstance(answer, dict) or not answer.get("accessJwt") or not answer.get("did"):
            raise AdapterError(f"bluesky {what}: no session in the answer")
        session = {k: answer.get(k) for k in ("accessJwt", "refreshJwt", "did", "handle")}
        for token in (session["accessJwt"], session["refreshJwt"]):
            crypto.remember_secret(token or "")  # so the log filter blanks them anywhere
        cache.set(self.cache_key, crypto.encrypt(json.dumps(session)), SESSION_TTL)
        self._session = session
        return session

    def _login(self) -> dict:
        ratelimit.acquire(self.rate_key + ":login", LOGINS_PER_SECOND, sleep=_sleep)
        answer = self._send(
            "POST",
            "com.atproto.server.createSession",
            json={"identifier": self.identifier, "password": self._password},
            token=None,
            idempotent=False,
        )
        return self._keep(answer, "createSession")

    def _refresh(self) -> dict:
        refresh = (self._session or {}).get("refreshJwt")
        if refresh:
            try:
                answer = self._send(
                    "POST", "com.atproto.server.refreshSession", token=refresh, idempotent=False
                )
                return self._keep(answer, "refreshSession")
            except XRPCError as exc:
                if exc.retry_after is not None or not (exc.permanent or exc.status == 400):
                    raise
                # The refresh token expired or was used by another worker: log in again.
        return self._login()

    def forget(self) -> None:
        self._session = None
        cache.delete(self.cache_key)

    # --- calls --------------------------------------------------------------------------------------

    def _send(self, method: str, nsid: str, *, token: str | None, base: str | None = None, **kwargs):
        ratelimit.acquire(self.rate_key, REQUESTS_PER_SECOND, sleep=_sleep)
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = f"{(base or self.pds).rstrip('/')}/xrpc/{nsid}"
        try:
            response = http.request(
                method, url, headers=headers, user_url=True, raise_for_status=False, **kwargs
            )
        except http.OutboundError as exc:
            raise XRPCError(
                f"bluesky {nsid}: {exc.message}", permanent=exc.permanent, retry_after=exc.retry_after
            )
        if response.status_code != 200:
            raise classify(response, nsid)
        try:
            return response.json()
        except ValueError:
            raise XRPCError(f"bluesky {nsid}: the answer is not JSON")

    def call(self, method: str, nsid: str, *, write: bool = False, base: str | None = None, **kwargs):
        """An authenticated call; renews the session once if the server says it expired."""
        if write:
            ratelimit.acquire(self.rate_key + ":write", WRITES_PER_SECOND, sleep=_sleep)
        session = self.session()
        try:
            return self._send(method, nsid, token=session["accessJwt"], base=base, **kwargs)
        except XRPCError as exc:
            if exc.error in _EXPIRED:
                session = self._refresh()
            elif exc.error in _STALE and exc.status in (400, 401):
                # Revoked elsewhere (the app password was deleted and made again, a server restart):
                # one fresh login decides between "works again" and "needs reconnect".
                self.forget()
                session = self._login()
            else:
                raise
        return self._send(method, nsid, token=session["accessJwt"], base=base, **kwargs)

    def public(self, nsid: str, base: str, **kwargs):
        """An unauthenticated read (the public AppView; handle resolution)."""
        return self._send("GET", nsid, token=None, base=base, **kwargs)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
