"""The HTTP side of the X adapter: one request helper that knows X's error answers, OAuth 2.0 token
refresh, and the per-endpoint rate-limit windows X reports in its headers.

X publishes its limits per endpoint and per 15-minute window, and tells where a caller stands in
x-rate-limit-remaining / x-rate-limit-reset on every answer. Counting that window ourselves would only
guess at X's own count, so we read it: an endpoint whose window is used up is not called again until
the reset X named, and the caller gets a retryable AdapterError instead. On top of that, calls are
paced to one a second per account so a burst (paging through likes) stays polite.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time

from django.core.cache import cache

from smmdesk.channels import ratelimit
from smmdesk.channels.base import AdapterError
from smmdesk.lib import crypto, http

PER_SECOND = 1.0
# X's rate-limit window; the wait when a 429 carries no reset time.
WINDOW_SECONDS = 15 * 60
# Replaced by tests: the client-side pacing must not sleep on the wall clock there.
_pause = time.sleep

TIER_MESSAGE = (
    "the X API access of this app does not include this call (client-forbidden): reading mentions, "
    "search, likes, reposts and metrics need paid access (pay-per-use credits, or a legacy Basic or "
    "higher plan); the free plan only posts"
)
CREDITS_MESSAGE = "the X developer account has no API credits left; add credits in the X Developer Console"


def digest(value: str) -> str:
    """A stable name for a secret that can go into cache keys without the secret itself."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _json(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _detail(body: dict) -> str:
    """X answers errors as RFC 7807 problems (title, detail, type) or, on older paths, errors[]."""
    parts = [body.get("title"), body.get("detail")]
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            parts.append(error.get("message") or error.get("detail"))
    text = "; ".join(dict.fromkeys(str(p) for p in parts if p))
    return text[:300]


def _reset_wait(response, now: float | None = None) -> float | None:
    """Seconds until the window X named resets: the 24-hour cap when that is the one used up, else the
    15-minute window; Retry-After if a proxy in front of X sent one."""
    now = time.time() if now is None else now
    headers = response.headers
    if headers.get("x-user-limit-24hour-remaining") == "0" and headers.get("x-user-limit-24hour-reset"):
        name = "x-user-limit-24hour-reset"
    elif headers.get("x-app-limit-24hour-remaining") == "0" and headers.get("x-app-limit-24hour-reset"):
        name = "x-app-limit-24hour-reset"
    else:
        name = "x-rate-limit-reset"
    reset = headers.get(name, "")
    if reset.strip().isdigit():
        return max(1.0, float(reset) - now)
    return http.parse_retry_after(headers.get("Retry-After"))


def classify(response, what: str) -> AdapterError:
    """The one place where an X error answer becomes an AdapterError with the right flags."""
    status = response.status_code
    body = _json(response)
    detail = _detail(body) or f"HTTP {status}"
    if status == 401:
        return AdapterError(
            f"x {what}: the access token was revoked or has expired ({detail})", reconnect=True
        )
    if status == 429:
        wait = _reset_wait(response)
        return AdapterError(f"x {what}: rate limited ({detail})", retry_after=wait or float(WINDOW_SECONDS))
    problem = str(body.get("type", ""))
    if status == 403 and (
        problem.endswith("client-forbidden") or body.get("reason") == "client-not-enrolled"
    ):
        return AdapterError(f"x {what}: {TIER_MESSAGE}", permanent=True)
    if status == 402:
        return AdapterError(f"x {what}: {CREDITS_MESSAGE}", permanent=True)
    if 400 <= status < 500 and status not in (408, 425):
        return AdapterError(f"x {what}: {detail}", permanent=True)
    return AdapterError(f"x {what}: {detail}")


class XClient:
    def __init__(self, config):
        self.config = config
        self.base = config.api_url.rstrip("/")
        # Identifies the account's user context in cache keys without putting the token there.
        self.account_key = digest(config.access_token.get_secret_value())

    # --- tokens -------------------------------------------------------------------------------------

    def _store_key(self) -> str | None:
        refresh = self.config.refresh_token
        return f"x:oauth:{digest(refresh.get_secret_value())}" if refresh else None

    def _stored(self) -> dict | None:
        """The token pair a refresh produced. X rotates refresh tokens (each works once), and an adapter
        cannot write its channel's config, so the newest pair lives encrypted in the shared cache, keyed
        by the refresh token the owner entered; entering a new one starts afresh."""
        key = self._store_key()
        blob = cache.get(key) if key else None
        if not blob:
            return None
        try:
            pair = json.loads(crypto.decrypt(blob))
        except ValueError:
            return None
        return pair if isinstance(pair, dict) and pair.get("access_token") else None

    def access_token(self) -> str:
        stored = self._stored()
        if stored:
            return stored["access_token"]
        return self.config.access_token.get_secret_value()

    def can_refresh(self) -> bool:
        return bool(self.config.refresh_token and self.config.client_id)

    def refresh(self) -> str:
        """Trade the refresh token for a new pair (POST /2/oauth2/token) and keep it; the new access token."""
        stored = self._stored()
        used = stored["refresh_token"] if stored else self.config.refresh_token.get_secret_value()
        headers = {}
        secret = self.config.client_secret
        if secret is not None:
            # A confidential client authenticates with HTTP Basic; a public one sends only client_id.
            pair = f"{self.config.client_id}:{secret.get_secret_value()}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        form = {"grant_type": "refresh_token", "refresh_token": used, "client_id": self.config.client_id}
        try:
            response = http.post(
                f"{self.base}/2/oauth2/token", data=form, headers=headers, raise_for_status=False
            )
        except http.OutboundError as exc:
            raise AdapterError(f"x token refresh: {exc.message}", retry_after=exc.retry_after)
        if response.status_code in (400, 401):
            again = self._stored()
            if again and again["refresh_token"] != used:
                # Another worker refreshed at the same moment and won: its pair is the current one.
                return again["access_token"]
            raise AdapterError(
                "x: the access token expired and X refused the refresh token; reconnect the account",
                reconnect=True,
            )
        if response.status_code >= 400:
            raise classify(response, "token refresh")
        body = _json(response)
        if not body.get("access_token"):
            raise AdapterError("x token refresh: the answer has no access token")
        fresh = {"access_token": body["access_token"], "refresh_token": body.get("refresh_token") or used}
        for value in fresh.values():
            crypto.remember_secret(value)
        cache.set(self._store_key(), crypto.encrypt(json.dumps(fresh)), timeout=None)
        return fresh["access_token"]

    # --- rate-limit windows -------------------------------------------------------------------------

    def _window_key(self, route: str) -> str:
        # Cache keys carry no spaces (memcached refuses them).
        return f"x:window:{self.account_key}:{route.replace(' ', '_')}"

    def _check_window(self, route: str) -> None:
        reset = cache.get(self._window_key(route))
        if reset is None:
            return
        wait = float(reset) - time.time()
        if wait > 0:
            raise AdapterError(
                f"x {route}: the rate-limit window is used up; retry in {wait:.0f} s", retry_after=wait
            )

    def _note_window(self, route: str, response) -> None:
        if response.headers.get("x-rate-limit-remaining") != "0":
            return
        reset = response.headers.get("x-rate-limit-reset", "")
        if not reset.isdigit():
            return
        ttl = int(reset) - int(time.time())
        if ttl > 0:
            cache.set(self._window_key(route), int(reset), timeout=ttl + 1)

    # --- requests -----------------------------------------------------------------------------------

    def _send(self, method: str, path: str, token: str, **kwargs):
        headers = {"Authorization": f"Bearer {token}"}
        try:
            return http.request(
                method, f"{self.base}{path}", headers=headers, raise_for_status=False, **kwargs
            )
        except http.OutboundError as exc:
            raise AdapterError(exc.message, permanent=exc.permanent, retry_after=exc.retry_after)

    def request(self, method: str, path: str, *, route: str = "", what: str = "", **kwargs) -> dict:
        """Call X and return the JSON answer; every failure leaves as an AdapterError.

        route names the endpoint for the rate-limit window (e.g. "GET /2/users/:id/mentions"); keyword
        arguments (params, json, data, files) go to lib/http.
        """
        route = route or f"{method} {path}"
        what = what or route
        self._check_window(route)
        ratelimit.acquire(f"x:{self.account_key}", PER_SECOND, sleep=lambda s: _pause(s))
        response = self._send(method, path, self.access_token(), **kwargs)
        if response.status_code == 401 and self.can_refresh():
            # Access tokens last two hours; a refresh token (offline.access) gets a new one without the owner.
            response = self._send(method, path, self.refresh(), **kwargs)
        self._note_window(route, response)
        if response.status_code >= 400:
            raise classify(response, what)
        if response.status_code == 204 or not response.content:
            return {}
        body = _json(response)
        if not body and response.content.strip() not in (b"{}", b""):
            raise AdapterError(f"x {what}: the answer is not JSON")
        return body
