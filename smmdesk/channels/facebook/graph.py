"""Meta's Graph API, shared by the Facebook Page and Instagram adapters: one request helper with the error
classification, the usage headers that say when Meta starts throttling, webhook verification
(X-Hub-Signature-256 and the subscription handshake) and Meta's timestamps.

Meta throttles by usage it reports in headers (X-App-Usage, and X-Business-Use-Case-Usage for Page and
Instagram tokens) rather than by a fixed rate we could count ourselves. So calls are paced gently (a few a
second per account, to keep bursts polite) and, once Meta says an account is used up or names the time
to regain access, that account is not called again before then: callers get a retryable AdapterError.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from pydantic import SecretStr

from smmdesk.channels import ratelimit
from smmdesk.channels.base import AdapterError, SignatureError, WebhookAnswer
from smmdesk.lib import http

# Checked against the Graph API changelog: v26.0 is the newest version (July 2026); older ones are retired
# on a schedule (v21.0 in January 2027), so the default moves forward and the field lets owners pin one.
DEFAULT_VERSION = "v26.0"
DEFAULT_GRAPH_URL = "https://graph.facebook.com"
PER_SECOND = 5.0
# Throttling codes (application 4, user 17, page 32, custom 613, business use case 80001-80014).
THROTTLE_CODES = frozenset({4, 17, 32, 613}) | frozenset(range(80001, 80015))
# Platform rate limits are counted over a rolling hour; without a stated time to regain access we wait a
# quarter of it and ask again rather than hold a channel for the whole hour.
DEFAULT_THROTTLE_WAIT = 15 * 60.0
SIGNATURE_HEADER = "X-Hub-Signature-256"
# Replaced by tests: the client-side pacing must not sleep on the wall clock there.
_pause = time.sleep


class GraphError(AdapterError):
    """An AdapterError that keeps Meta's error code, for callers that treat one code specially (100:
    the object does not exist)."""

    def __init__(self, message: str, *, code: int | None = None, subcode: int | None = None, **flags):
        super().__init__(message, **flags)
        self.code = code
        self.subcode = subcode


def header(headers, name: str) -> str:
    # Django's request.headers ignores case; a dict restored from a stored raw event may not.
    value = headers.get(name)
    if value is None and hasattr(headers, "items"):
        wanted = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == wanted), None)
    return value if isinstance(value, str) else ""


def regain_seconds(headers) -> float | None:
    """Seconds until Meta lifts throttling, from the usage headers: the business use case's
    estimated_time_to_regain_access (minutes), or the default wait when any usage reached 100%."""
    longest = None
    used_up = False
    for name in ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Page-Usage", "X-Ad-Account-Usage"):
        raw = header(headers, name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        groups = (
            usage.values() if name == "X-Business-Use-Case-Usage" and isinstance(usage, dict) else [[usage]]
        )
        for group in groups:
            for item in group if isinstance(group, list) else []:
                if not isinstance(item, dict):
                    continue
                minutes = item.get("estimated_time_to_regain_access") or 0
                if isinstance(minutes, int | float) and minutes > 0:
                    longest = max(longest or 0.0, minutes * 60.0)
                counters = (item.get(k) for k in ("call_count", "total_cputime", "total_time"))
                used_up |= any(isinstance(c, int | float) and c >= 100 for c in counters)
    if longest:
        return longest
    return DEFAULT_THROTTLE_WAIT if used_up else None


def classify(status: int, body: dict, headers, what: str) -> AdapterError:
    """The one place where a Graph API error becomes an AdapterError with the right flags."""
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    reason = error.get("error_user_msg") or error.get("message") or f"HTTP {status}"
    numbers = f" (code {code}{f'/{subcode}' if subcode else ''})" if code is not None else ""
    message = f"{what}: {reason}{numbers}"[:500]
    flags: dict = {}
    if code == 190 or code == 102:
        # Expired or invalidated token: a changed password, removed app, or lost role on the Page.
        flags["reconnect"] = True
    elif code in THROTTLE_CODES or status == 429:
        flags["retry_after"] = (
            regain_seconds(headers)
            or http.parse_retry_after(header(headers, "Retry-After"))
            or DEFAULT_THROTTLE_WAIT
        )
    elif code in (1, 2) or error.get("is_transient") or (code is None and status >= 500):
        pass  # temporary: the caller retries with backoff
    elif code == 9007:
        # Instagram: the media container is not ready yet.
        flags["retry_after"] = 30.0
    else:
        flags["permanent"] = True
    return GraphError(message, code=code, subcode=subcode, **flags)


class GraphClient:
    """Calls for one account (a Page or an Instagram account) with its token."""

    def __init__(
        self,
        *,
        graph_url: str,
        version: str,
        token: SecretStr,
        app_secret: SecretStr | None,
        account: str,
        label: str,
    ):
        self.base = f"{graph_url.rstrip('/')}/{version.strip('/')}"
        self.token = token
        self.app_secret = app_secret
        self.account = account
        self.label = label

    def _blocked_key(self) -> str:
        return f"graph:blocked:{self.label}:{self.account}"

    def _auth(self) -> tuple[dict, dict]:
        token = self.token.get_secret_value()
        # A header keeps the token out of URLs (and so out of access logs and httpx's log lines).
        headers = {"Authorization": f"Bearer {token}"}
        params = {}
        if self.app_secret is not None:
            # Proves the call comes from the app's own server; required when the app turns on "Require
            # App Secret", harmless otherwise.
            params["appsecret_proof"] = hmac.new(
                self.app_secret.get_secret_value().encode(), token.encode(), hashlib.sha256
            ).hexdigest()
        return headers, params

    def request(self, method: str, path: str, *, what: str, params: dict | None = None, **kwargs) -> dict:
        """Call the Graph API; the JSON answer, or an AdapterError. Keyword arguments (data, json) go to
        lib/http."""
        what = f"{self.label} {what}"
        blocked = cache.get(self._blocked_key())
        if blocked is not None and float(blocked) > time.time():
            wait = float(blocked) - time.time()
            raise GraphError(
                f"{what}: Meta is throttling this account; retry in {wait:.0f} s", retry_after=wait
            )
        ratelimit.acquire(f"graph:{self.label}:{self.account}", PER_SECOND, sleep=lambda s: _pause(s))
        headers, auth_params = self._auth()
        url = f"{self.base}/{path.lstrip('/')}"
        try:
            response = http.request(
                method,
                url,
                params={**(params or {}), **auth_params},
                headers=headers,
                raise_for_status=False,
                **kwargs,
            )
        except http.OutboundError as exc:
            raise GraphError(f"{what}: {exc.message}", permanent=exc.permanent, retry_after=exc.retry_after)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if response.status_code >= 400:
                raise classify(response.status_code, {}, response.headers, what)
            raise GraphError(f"{what}: the answer is not a JSON object")
        regain = regain_seconds(response.headers)
        if regain:
            cache.set(self._blocked_key(), time.time() + regain, timeout=int(regain) + 1)
        if response.status_code >= 400 or "error" in body:
            raise classify(response.status_code, body, response.headers, what)
        return body

    def pages(self, path: str, *, what: str, params: dict, limit: int):
        """Items of a paginated edge, following paging.cursors.after for at most `limit` pages."""
        after = None
        for _page in range(limit):
            page = self.request("GET", path, what=what, params=dict(params, after=after) if after else params)
            yield from page.get("data") or []
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not after or not paging.get("next"):
                return


# --- webhooks ---------------------------------------------------------------------------------------


def verify_signature(app_secret: SecretStr | None, body: bytes, headers) -> None:
    """Meta signs every delivery with the app secret: X-Hub-Signature-256 = "sha256=" + HMAC-SHA256 of
    the raw body. Anything else is not from Meta."""
    if app_secret is None:
        raise SignatureError("this channel has no app secret to verify Meta's signature with")
    given = header(headers, SIGNATURE_HEADER).strip()
    if not given:
        raise SignatureError(f"{SIGNATURE_HEADER}: header missing")
    expected = "sha256=" + hmac.new(app_secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    # Bytes, so a header with non-ASCII characters is a mismatch rather than a TypeError.
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise SignatureError(f"{SIGNATURE_HEADER}: signature does not match the body")


def handshake(verify_token: SecretStr | None, method: str, query) -> WebhookAnswer | None:
    """Meta's subscription check: GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=... must be
    answered with the challenge, and only when the token is the one typed into both places."""
    if method != "GET" or query.get("hub.mode") is None:
        return None
    if query.get("hub.mode") != "subscribe":
        raise SignatureError("hub.mode: only subscribe is expected")
    given = query.get("hub.verify_token") or ""
    if verify_token is None or not hmac.compare_digest(
        verify_token.get_secret_value().encode(), given.encode("utf-8", "replace")
    ):
        raise SignatureError("hub.verify_token does not match this channel's verify token")
    return WebhookAnswer(200, query.get("hub.challenge") or "")


def deliveries(body: bytes, expected_object: str) -> list[dict]:
    """The entries of a verified delivery for one object type ("page", "instagram")."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise AdapterError(f"body: malformed JSON: {exc}", permanent=True)
    if not isinstance(data, dict) or not isinstance(data.get("entry", []), list):
        raise AdapterError("body: not a Graph API webhook delivery", permanent=True)
    if data.get("object") != expected_object:
        return []
    return [e for e in data.get("entry") or [] if isinstance(e, dict)]


def parse_time(value) -> datetime:
    """Meta's times: epoch seconds (feed changes), epoch milliseconds (Messenger) or ISO 8601 with a
    +0000 offset (Graph API objects)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str) and value:
        try:
            moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


def cursor_time(cursor: str | None, first_window: timedelta) -> datetime:
    """The time a polling cursor stands for; a first poll (or a cursor this code did not write) looks back
    `first_window` only, so a new channel does not pull in years of old comments."""
    if cursor:
        try:
            return parse_time(cursor)
        except ValueError:
            pass
    return datetime.now(UTC) - first_window
