"""Calls to a Mastodon server's REST API, and what its errors mean for a channel.

Every request goes through lib/http with user_url=True: the instance address is typed by a member, so
the SSRF guard checks it like any other user-supplied URL.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx

from smmdesk.channels import ratelimit
from smmdesk.channels.base import AdapterError
from smmdesk.lib import http

# Mastodon allows 300 API requests per account in 5 minutes (docs: api/rate-limits): one a second keeps
# a channel inside it however its calls are spread.
REQUESTS_PER_SECOND = 1.0
# Replaced by tests, so the client-side limiter never sleeps on the wall clock.
_sleep = time.sleep

_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";]+)"?')
# A 403 that means the token itself is not good enough: a new one is needed, not a retry.
_CREDENTIAL_403 = ("outside the authorized scopes", "login is currently disabled", "suspended")


def links(response: httpx.Response) -> dict[str, dict[str, str]]:
    """The Link header's pages as rel -> their query parameters (max_id, min_id, since_id, limit).

    Only the parameters are kept: the next request goes to our configured server and path, never to an
    address the answer names."""
    found = {}
    for url, rels in _LINK.findall(response.headers.get("Link", "")):
        params = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items() if v}
        for rel in rels.split():
            found[rel] = params
    return found


def _reset_in(value: str | None) -> float | None:
    """Seconds until X-RateLimit-Reset: Mastodon sends an ISO 8601 time; some servers an epoch."""
    if not value:
        return None
    value = value.strip()
    try:
        moment = (
            datetime.fromtimestamp(float(value), UTC)
            if re.fullmatch(r"\d+(\.\d+)?", value)
            else datetime.fromisoformat(value.replace("Z", "+00:00"))
        )
    except (ValueError, OverflowError, OSError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(1.0, (moment - datetime.now(UTC)).total_seconds())


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("error_description") or body.get("error") or "")[:300]
    return ""


def classify(response: httpx.Response, what: str) -> AdapterError:
    """The AdapterError for a Mastodon error answer.

    401: the token was revoked or the app removed -> reconnect. 403 naming scopes or a disabled login
    -> reconnect (the token will never do it); any other 403, 404, 410, 422 -> permanent. 429 ->
    retry_after from Retry-After or X-RateLimit-Reset. 5xx and the rest -> temporary.
    """
    status = response.status_code
    detail = _error_text(response)
    message = f"mastodon {what}: HTTP {status}" + (f" {detail}" if detail else "")
    if status == 401:
        return AdapterError(f"{message} (the access token is no longer valid)", reconnect=True)
    if status == 403 and any(marker in detail.lower() for marker in _CREDENTIAL_403):
        return AdapterError(message, reconnect=True)
    if status == 429:
        wait = http.parse_retry_after(response.headers.get("Retry-After"))
        if wait is None:
            wait = _reset_in(response.headers.get("X-RateLimit-Reset"))
        return AdapterError(message, retry_after=wait if wait is not None else 60.0)
    if status in (408, 425) or status >= 500:
        return AdapterError(message)
    return AdapterError(message, permanent=True)


class MastodonAPI:
    def __init__(self, instance_url: str, token: str):
        self.base = instance_url.rstrip("/")
        self.host = urlsplit(self.base).hostname or ""
        self._token = token
        # The limiter's key names the account (its token), never the token itself.
        self.rate_key = "mastodon:" + hashlib.sha256(f"{self.base}|{token}".encode()).hexdigest()[:16]

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str = "",
        ok: tuple[int, ...] = (200,),
        idempotency_key: str = "",
        **kwargs,
    ) -> httpx.Response:
        """Send one API request; any status outside `ok` becomes an AdapterError."""
        ratelimit.acquire(self.rate_key, REQUESTS_PER_SECOND, sleep=_sleep)
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if idempotency_key:
            # Mastodon keeps the key for an hour and answers a repeat with the status it already made,
            # so a POST carrying it may be repeated after a timeout.
            headers["Idempotency-Key"] = idempotency_key[:255]
            kwargs.setdefault("idempotent", True)
        what = what or f"{method} {path}"
        try:
            response = http.request(
                method, self.base + path, headers=headers, user_url=True, raise_for_status=False, **kwargs
            )
        except http.OutboundError as exc:
            raise AdapterError(
                f"mastodon {what}: {exc.message}", permanent=exc.permanent, retry_after=exc.retry_after
            )
        if response.status_code not in ok:
            raise classify(response, what)
        return response

    def json(self, method: str, path: str, **kwargs):
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise AdapterError(f"mastodon {kwargs.get('what') or path}: the answer is not JSON")

    def pages(self, path: str, params: dict, *, what: str, max_pages: int = 10):
        """Yield each page of a list endpoint, following the Link header's rel="next"."""
        params = dict(params)
        for _page in range(max_pages):
            response = self.request("GET", path, params=params, what=what)
            try:
                items = response.json()
            except ValueError:
                raise AdapterError(f"mastodon {what}: the answer is not JSON")
            if not isinstance(items, list):
                raise AdapterError(f"mastodon {what}: expected a list", permanent=True)
            yield items
            following = links(response).get("next")
            if not items or not following:
                return
            params = {**params, **following}
