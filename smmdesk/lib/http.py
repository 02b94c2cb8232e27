"""The only outbound HTTP client of smmdesk: timeouts, retries with backoff, a User-Agent, and an SSRF guard.

    response = http.get(feed_url)                  # guarded: refuses private and loopback addresses
    response = http.post(api_url, json=body)       # adapters too: their base URLs sit in channel config
                                                   # that members edit, so they are guarded as well

Errors are `OutboundError` (status, retry_after, response) so adapters can turn them into AdapterError;
`UnsafeURLError` means the SSRF guard refused the URL and retrying will not help.
"""

from __future__ import annotations

import ipaddress
import random
import re
import socket
import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpcore
import httpx
from django.conf import settings

import smmdesk

USER_AGENT = f"smmdesk/{smmdesk.__version__} (+self-hosted)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
DEFAULT_RETRIES = 3
MAX_REDIRECTS = 5
BACKOFF_BASE = 0.5
MAX_BACKOFF = 30.0
# A Retry-After longer than this is not slept through: a worker blocked for minutes on one slow network
# delays every other channel, so the error carries retry_after and the task queue schedules the retry.
MAX_RETRY_AFTER = 60.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# 501 and 505 say "this server will never do that": retrying cannot help.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 507, 508, 509, 520, 521, 522, 523, 524})
# Statuses that say the request was not acted on, so even a POST can be repeated.
RETRY_STATUSES_UNSAFE = frozenset({429, 503})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LEGACY_IPV4_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")

# Replaced by tests: nothing here may sleep on the wall clock or resolve real names during a test.
_sleep = time.sleep
_getaddrinfo = socket.getaddrinfo


class OutboundError(Exception):
    """An outbound call failed. `status` is the HTTP status (None: no response), `retry_after` seconds."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        response: httpx.Response | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.response = response

    @property
    def permanent(self) -> bool:
        """True when repeating the same call later cannot succeed (4xx other than 408/429, a refused URL)."""
        return self.status is not None and 400 <= self.status < 500 and self.status not in (408, 425, 429)


class UnsafeURLError(OutboundError):
    """The SSRF guard refused the URL: wrong scheme, credentials in it, or a non-public address."""

    @property
    def permanent(self) -> bool:
        return True


def _allow_private(value: bool | None = None) -> bool:
    if value is not None:
        return value
    return bool(getattr(settings, "SMMDESK_ALLOW_PRIVATE_URLS", False))


def _legacy_ipv4(host: str) -> str | None:
    """The dotted forms inet_aton accepts (2130706433, 0x7f.1, 0177.0.0.1, 127.1) as a dotted quad.

    getaddrinfo resolves these on glibc but not everywhere; parsing them here means the guard sees the
    same address the connection would use, whatever the platform's resolver does.
    """
    parts = (host[:-1] if host.endswith(".") else host).split(".")
    if not 1 <= len(parts) <= 4 or not all(_LEGACY_IPV4_PART.match(p) for p in parts):
        return None
    numbers = []
    for part in parts:
        if part[:2].lower() == "0x":
            numbers.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not all(c in "01234567" for c in part):
                return None
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    value = 0
    for number in numbers[:-1]:
        if number > 255:
            return None
        value = value << 8 | number
    rest_bits = 8 * (5 - len(numbers))
    if numbers[-1] >= 1 << rest_bits:
        return None
    value = value << rest_bits | numbers[-1]
    return str(ipaddress.IPv4Address(value))


def forbidden_reason(address: str) -> str | None:
    """Why an IP address must not be contacted for a user-supplied URL, or None if it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address wrapped in IPv6 reaches the IPv4 host: judge the inner address.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reason = forbidden_reason(str(embedded))
            if reason:
                return reason
    checks = (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    )
    for attribute, label in checks:
        if getattr(ip, attribute):
            return label
    if not ip.is_global:
        return "non-public"
    return None


def resolve(host: str, port: int) -> list[str]:
    """The IP addresses `host` stands for, in the resolver's order, without duplicates."""
    literal = _legacy_ipv4(host)
    if literal:
        return [literal]
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return [host]
    except ValueError:
        pass
    try:
        infos = _getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundError(f"cannot resolve host {host}: {exc}")
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = sockaddr[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OutboundError(f"cannot resolve host {host}: no addresses")
    return addresses


def refused_without_lookup(url: str) -> str | None:
    """Why a URL can be seen not to be public without a DNS lookup, or None when only a lookup could tell.

    For addresses kept but not fetched yet (a media link in an imported plan): a literal address in any
    notation the connection would accept, or a localhost name, is refused at once with the reason.
    """
    try:
        host = httpx.URL(url).host
    except (httpx.InvalidURL, TypeError):
        return None
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return "loopback"
    literal = _legacy_ipv4(host)
    try:
        return forbidden_reason(literal or host)
    except ValueError:
        return None


def check_addresses(host: str, addresses: list[str]) -> None:
    # Every address must be public: a resolver answering with one public and one private address
    # would otherwise let the connection land on the private one.
    for address in addresses:
        reason = forbidden_reason(address)
        if reason:
            raise UnsafeURLError(f"refused {host}: it points to a {reason} address ({address})")


def check_url(url: str | httpx.URL, allow_private: bool | None = None) -> list[str]:
    """Refuse a URL that must not be fetched on a user's behalf; return the checked addresses.

    Only http and https, no user name or password, and (unless private addresses are allowed, by the
    argument or settings.SMMDESK_ALLOW_PRIVATE_URLS) every address the host resolves to must be public.
    The URL is parsed by httpx, the same parser that will send the request, so the two cannot disagree
    about which host is meant. Returns [] when private addresses are allowed (nothing is resolved).
    """
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeURLError(f"invalid URL: {exc}")
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURLError(f"only http and https URLs are allowed, not {parsed.scheme or 'no scheme'}")
    if parsed.userinfo:
        raise UnsafeURLError("URLs with a user name or password are not allowed")
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise UnsafeURLError("the URL has no host")
    if _allow_private(allow_private):
        return []
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = resolve(host, port)
    check_addresses(host, addresses)
    return addresses


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves the host itself, checks every address, and connects to a checked address.

    Checking a URL and then letting the socket layer resolve the name again leaves a window: a hostile
    DNS server can answer the check with a public address and the connection with 127.0.0.1 (DNS
    rebinding). Resolving once here and handing the connection the literal IP closes that window, and it
    also covers redirects and pooled connections, since every new connection passes through here. TLS
    still verifies the certificate against the host name (httpcore passes it as SNI separately).
    """

    def __init__(self, inner: httpcore.NetworkBackend):
        self._inner = inner

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = resolve(host, port)
        except UnsafeURLError:
            raise
        except OutboundError as exc:
            raise httpcore.ConnectError(str(exc))
        if not _allow_private():
            check_addresses(host, addresses)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        raise last_error

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise UnsafeURLError("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


_clients: dict[bool, httpx.Client] = {}
_clients_lock = threading.Lock()


def _make_client(guarded: bool) -> httpx.Client:
    transport = httpx.HTTPTransport(
        retries=0, limits=httpx.Limits(max_connections=100, max_keepalive_connections=20)
    )
    if guarded:
        pool = transport._pool
        if not isinstance(getattr(pool, "_network_backend", None), httpcore.NetworkBackend):
            raise RuntimeError("httpx internals changed: cannot install the SSRF guard")
        pool._network_backend = _GuardedBackend(pool._network_backend)
    # trust_env=False: an environment proxy would make the guard check the proxy's address instead of
    # the destination's, and .netrc credentials must never be sent to a user-supplied host.
    return httpx.Client(
        transport=transport,
        headers={"User-Agent": USER_AGENT},
        timeout=DEFAULT_TIMEOUT,
        follow_redirects=False,
        trust_env=False,
    )


def client(guarded: bool = True) -> httpx.Client:
    """The shared client (connection pool) for user-supplied URLs (guarded) or configured ones."""
    with _clients_lock:
        if guarded not in _clients:
            _clients[guarded] = _make_client(guarded)
        return _clients[guarded]


def close_clients() -> None:
    with _clients_lock:
        for each in _clients.values():
            each.close()
        _clients.clear()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter: attempt 0 waits 0.25-0.5 s, then 0.5-1 s, 1-2 s, ..."""
    ceiling = min(MAX_BACKOFF, BACKOFF_BASE * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)


def _where(url: httpx.URL) -> str:
    # Only scheme and host: paths and queries of network APIs can carry tokens (Telegram puts the bot
    # token in the path), and these messages end up in logs and on the channel page.
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"


def _send(http_client: httpx.Client, req: httpx.Request, *, retries: int, idempotent: bool) -> httpx.Response:
    attempt = 0
    while True:
        try:
            response = http_client.send(req)
        except httpx.TransportError as exc:
            # A request that never reached the server can always be repeated; after a read timeout a
            # POST may already have been acted on, so it is repeated only when idempotent.
            not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
            if attempt < retries and (idempotent or not_sent):
                _sleep(backoff(attempt))
                attempt += 1
                continue
            raise transport_error(req, exc)
        retryable = RETRY_STATUSES if idempotent else RETRY_STATUSES_UNSAFE
        if response.status_code not in retryable or attempt >= retries:
            return response
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is not None and retry_after > MAX_RETRY_AFTER:
            return response
        _sleep(retry_after if retry_after is not None else backoff(attempt))
        attempt += 1


def request(
    method: str,
    url: str | httpx.URL,
    *,
    user_url: bool = True,
    timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    idempotent: bool | None = None,
    follow_redirects: bool = True,
    raise_for_status: bool = True,
    **kwargs,
) -> httpx.Response:
    """Send a request and return the (fully read) response.

    user_url: the URL (or a host in it) came from a person or a remote party: the SSRF guard checks it
    and every redirect target. False only for URLs set by whoever runs the server (environment
    variables), never for anything a member can edit, such as a channel's configured base URL.
    retries: how many times to repeat on connection errors, timeouts, 429 and 5xx, with backoff and
    Retry-After. idempotent: whether a request that may have reached the server can be repeated
    (default: by method; pass True for a POST carrying an idempotency key).
    raise_for_status: a final 4xx/5xx raises OutboundError (with .response); False returns it.
    Other keyword arguments (params, headers, json, data, content, files) go to httpx.
    """
    method = method.upper()
    if idempotent is None:
        idempotent = method in IDEMPOTENT_METHODS
    http_client = client(guarded=user_url)
    try:
        req = http_client.build_request(method, url, timeout=timeout, **kwargs)
    except httpx.InvalidURL as exc:
        # A member's typo in a base URL (or an address httpx cannot parse) is a refusal to explain, not a
        # crash: nothing can be sent to it, and trying again will not change that.
        raise UnsafeURLError(f"invalid URL: {exc}")
    for _hop in range(MAX_REDIRECTS + 1):
        if user_url:
            check_url(req.url)
        response = _send(http_client, req, retries=retries, idempotent=idempotent)
        if not (follow_redirects and response.status_code in REDIRECT_STATUSES and response.next_request):
            break
        req = response.next_request
    else:
        raise OutboundError(
            f"{method} {_where(req.url)}: more than {MAX_REDIRECTS} redirects",
            status=response.status_code,
            response=response,
        )
    if raise_for_status and response.status_code >= 400:
        raise status_error(method, response)
    return response


def transport_error(req: httpx.Request, exc: httpx.TransportError) -> OutboundError:
    """The OutboundError for a request that got no answer (also built by the fake network's faults)."""
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return OutboundError(f"{req.method} {_where(req.url)} {kind}: {exc.__class__.__name__} {exc}".rstrip())


def status_error(method: str, response: httpx.Response) -> OutboundError:
    """The OutboundError for an error answer (4xx/5xx), with the wait its Retry-After asks for."""
    return OutboundError(
        f"{method} {_where(response.request.url)} answered HTTP {response.status_code} "
        f"{response.reason_phrase}".rstrip(),
        status=response.status_code,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
        response=response,
    )


def get(url: str | httpx.URL, **kwargs) -> httpx.Response:
    return request("GET", url, **kwargs)


def post(url: str | httpx.URL, **kwargs) -> httpx.Response:
    return request("POST", url, **kwargs)


def head(url: str | httpx.URL, **kwargs) -> httpx.Response:
    return request("HEAD", url, **kwargs)
