"""VK API calls for the adapter: one place that spends the client-side rate budget, sends a method call and
turns VK's errors into AdapterError.

VK answers almost every error with HTTP 200 and {"error": {"error_code", "error_msg"}}, so the status code
says little; the error code decides (https://dev.vk.com/ru/reference/errors). A channel holds up to three
keys, because VK lets each kind call different methods (see docs/networks/vk.md):

- "community": the community access token (messages, Bots Long Poll, comments from the community);
- "user": an admin's user token (wall.post and wall.deleteComment accept nothing else);
- "service": the app's service key (reads of public wall data: metrics and contest entries).
"""

from __future__ import annotations

from smmdesk.channels import ratelimit
from smmdesk.channels.base import AdapterError
from smmdesk.lib import http

API_VERSION = "5.199"

# Client-side budgets in calls a second, from VK's documented limits: 20 for community tokens, 3 for user
# tokens. VK states no figure for service keys; they get the user-token budget, the safe end.
RATES = {"community": 20.0, "user": 3.0, "service": 3.0}

TOKEN_NAMES = {"community": "community access token", "user": "admin user token", "service": "service key"}

# The key no longer works: revoked, expired, or the wrong kind of key in the field (27: a community key
# where a user key is needed; 28: an application key that VK no longer accepts). 17: VK wants the user to
# confirm the session in a browser, which only the owner can do.
RECONNECT_CODES = frozenset({5, 17, 27, 28})
# Rate and flood limits with the wait VK implies: 6 counts calls per second; 9 (flood control) has no
# stated time and a minute is the shortest wait that usually clears it; 29 is a method's daily quota,
# with no reset time given, so an hour.
RETRY_AFTER = {6: 1.0, 9: 60.0, 14: 60.0, 29: 3600.0}
# VK's own trouble: unknown error, internal server error, execution timeout, section temporarily off.
TRANSIENT_CODES = frozenset({1, 10, 13, 36, 43})
# Error 6 is a per-second counter: the call was refused, not run, so repeating it after a second is safe
# even for a post. Beyond this many repeats the caller gets retry_after instead.
TOO_MANY_REPEATS = 2


class VKError(AdapterError):
    """An error VK reported for a method call; `code` is VK's error_code (0 when VK gave none)."""

    def __init__(self, message: str, *, code: int = 0, **flags):
        super().__init__(message, **flags)
        self.code = code


def classify(method: str, code: int, text: str, auth: str = "community") -> VKError:
    """The AdapterError for VK error `code` answered to `method`."""
    message = f"vk {method}: error {code}: {text}".rstrip(": ")
    if code in RECONNECT_CODES:
        return VKError(
            f"{message} (the {TOKEN_NAMES.get(auth, 'access token')} no longer works: "
            "issue a new one in VK and save it in the channel settings)",
            code=code,
            reconnect=True,
        )
    if code in RETRY_AFTER:
        return VKError(message, code=code, retry_after=RETRY_AFTER[code])
    if code in TRANSIENT_CODES:
        return VKError(message, code=code)
    # Access denied, invalid parameters, content refused, a deleted post: repeating cannot help.
    return VKError(message, code=code, permanent=True)


def _pause(seconds: float) -> None:
    # lib/http's own wait hook: tests replace it (the no_backoff fixture) so nothing sleeps on the clock.
    http._sleep(seconds)


class VKApi:
    def __init__(self, api_url: str, group_id: int, tokens: dict[str, str | None]):
        self.base = api_url.rstrip("/")
        self.group_id = group_id
        self.tokens = tokens

    def has(self, auth: str) -> bool:
        return bool(self.tokens.get(auth))

    def require(self, auth: str, method: str) -> str:
        """The key of that kind, or a permanent error saying which key the call needs."""
        token = self.tokens.get(auth)
        if not token:
            raise AdapterError(
                f"vk {method}: this needs the {TOKEN_NAMES[auth]}, and the channel has none; "
                "add it in the channel settings (see the VK setup guide)",
                permanent=True,
            )
        return token

    def call(self, method: str, auth: str = "community", *, idempotent: bool = False, **params):
        """The `response` of a VK method call. Parameters go as a POST form, None values left out;
        idempotent=True lets lib/http repeat the POST after a timeout (only for calls VK deduplicates)."""
        token = self.require(auth, method)
        form = {name: _form_value(value) for name, value in params.items() if value is not None}
        form.update(access_token=token, v=API_VERSION)
        url = f"{self.base}/method/{method}"
        for repeat in range(TOO_MANY_REPEATS + 1):
            ratelimit.acquire(f"vk:{self.group_id}:{auth}", RATES[auth], sleep=_pause)
            try:
                response = http.post(url, data=form, idempotent=idempotent)
            except http.OutboundError as exc:
                raise AdapterError(
                    f"vk {method}: {exc.message}", permanent=exc.permanent, retry_after=exc.retry_after
                )
            try:
                body = response.json()
            except ValueError:
                raise AdapterError(f"vk {method}: the answer is not JSON")
            if not isinstance(body, dict):
                raise AdapterError(f"vk {method}: unexpected answer")
            error = body.get("error")
            if error is None:
                if "response" not in body:
                    raise AdapterError(f"vk {method}: the answer has no response")
                return body["response"]
            code, text = _error_fields(error)
            if code == 6 and repeat < TOO_MANY_REPEATS:
                _pause(RETRY_AFTER[6])
                continue
            raise classify(method, code, text, auth)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def long_poll(self, server: str, key: str, ts: str) -> dict:
        """One Bots Long Poll check without waiting (wait=0): the periodic task polls every minute, so it
        must never hold a worker for the 25 s a long poll would."""
        # The address comes from VK's answer: a remote party's URL, so the SSRF guard checks it.
        url = server if server.startswith(("https://", "http://")) else f"https://{server}"
        try:
            response = http.get(url, params={"act": "a_check", "key": key, "ts": ts, "wait": 0})
            body = response.json()
        except http.OutboundError as exc:
            raise AdapterError(f"vk long poll: {exc.message}", permanent=False, retry_after=exc.retry_after)
        except ValueError:
            raise AdapterError("vk long poll: the answer is not JSON")
        if not isinstance(body, dict):
            raise AdapterError("vk long poll: unexpected answer")
        return body


def _error_fields(error) -> tuple[int, str]:
    if not isinstance(error, dict):
        return 0, str(error)[:200]
    try:
        code = int(error.get("error_code") or error.get("code") or 0)
    except (TypeError, ValueError):
        code = 0
    text = str(error.get("error_msg") or error.get("description") or "")[:500]
    return code, text


def _form_value(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list | tuple | set):
        return ",".join(str(item) for item in value)
    return str(value)
