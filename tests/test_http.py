"""smmdesk.lib.http: SSRF guard, redirects, retries with backoff and Retry-After, timeouts.

A real HTTP server on 127.0.0.1 answers scripted responses; respx stands in for "public" hosts. No test
sleeps: http._sleep is replaced by a recorder, and names resolve through a fake resolver.
"""

import socket
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import respx
import time_machine

from smmdesk.lib import http

PUBLIC_IP = "93.184.215.14"
_real_getaddrinfo = socket.getaddrinfo


def _info(address, port):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


class Resolver:
    """Fake DNS: names in `table` map to a list of answers (one per lookup, the last one repeats)."""

    def __init__(self):
        self.table: dict[str, list[list[str]]] = {"public.example": [[PUBLIC_IP]]}
        self.lookups: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.lookups.append(host)
        if host in self.table:
            answers = self.table[host]
            current = answers.pop(0) if len(answers) > 1 else answers[0]
            return [item for address in current for item in _info(address, port)]
        if host == "localhost":
            return _real_getaddrinfo(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.fixture(autouse=True)
def offline(monkeypatch, settings):
    """Record sleeps instead of sleeping, resolve names from a table, start with the guard on."""
    sleeps: list[float] = []
    resolver = Resolver()
    monkeypatch.setattr(http, "_sleep", sleeps.append)
    monkeypatch.setattr(http, "_getaddrinfo", resolver)
    settings.SMMDESK_ALLOW_PRIVATE_URLS = False
    yield type("Offline", (), {"sleeps": sleeps, "resolver": resolver})
    http.close_clients()


@pytest.fixture
def sleeps(offline):
    return offline.sleeps


@pytest.fixture
def resolver(offline):
    return offline.resolver


class Server:
    """Scripted local server: routes[path] is a list of (status, headers, body); the last one repeats."""

    def __init__(self):
        self.routes: dict[str, list[tuple[int, dict, bytes]]] = {}
        self.requests: list[dict] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                if self.path == "/hang":
                    server.release.wait(10)
                    return
                script = server.routes.get(self.path, [(404, {}, b"not here")])
                status, headers, content = script.pop(0) if len(script) > 1 else script[0]
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def paths(self):
        return [r["path"] for r in self.requests]

    def stop(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.stop()


@pytest.fixture
def allow_private(settings):
    settings.SMMDESK_ALLOW_PRIVATE_URLS = True


# --- the SSRF guard ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/admin",
        "http://10.1.2.3/",
        "http://172.16.5.4/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://127.1/",
        "https://127.0.0.1./",
    ],
)
def test_private_and_loopback_addresses_are_refused(url):
    with pytest.raises(http.UnsafeURLError) as refused:
        http.check_url(url)
    assert "refused" in str(refused.value)
    assert refused.value.permanent


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://public.example/file",
        "gopher://public.example/",
        "http://user:pass@public.example/",
        "http://user@public.example/",
        "https:///no-host",
        "not a url at all",
    ],
)
def test_wrong_schemes_credentials_and_garbage_are_refused_even_when_private_is_allowed(url):
    with pytest.raises(http.UnsafeURLError):
        http.check_url(url, allow_private=True)


@pytest.mark.parametrize("allow_private", [False, True])
def test_an_address_the_client_cannot_parse_is_refused_not_raised(settings, allow_private):
    """A base URL a member typed (0177.0.0.1 is 127.0.0.1 to inet_aton, but httpx refuses it) must be
    a refusal with a message, not an exception from inside httpx."""
    settings.SMMDESK_ALLOW_PRIVATE_URLS = allow_private
    with pytest.raises(http.UnsafeURLError, match="invalid URL") as refused:
        http.get("http://0177.0.0.1/feed.xml")
    assert refused.value.permanent


@pytest.mark.parametrize(
    "url,reason",
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://localhost:8000/a.jpg", "loopback"),
        ("https://LOCALHOST./", "loopback"),
        ("http://api.localhost/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0/", "unspecified"),
        ("https://public.example/a.jpg", None),
        ("https://93.184.215.14/a.jpg", None),
        ("https://intranet.example/a.jpg", None),  # a name: only a lookup could tell
        ("http://0177.0.0.1/", None),  # not an address httpx would send to at all
    ],
)
def test_refused_without_lookup_judges_literal_addresses_and_localhost_only(resolver, url, reason):
    assert http.refused_without_lookup(url) == reason
    assert resolver.lookups == []


def test_a_name_resolving_to_a_private_address_is_refused(resolver):
    resolver.table["intranet.example"] = [["10.0.0.7"]]
    with pytest.raises(http.UnsafeURLError, match=r"intranet\.example.*private.*10\.0\.0\.7"):
        http.check_url("https://intranet.example/feed")


def test_a_name_with_one_private_address_among_public_ones_is_refused(resolver):
    resolver.table["mixed.example"] = [[PUBLIC_IP, "127.0.0.1"]]
    with pytest.raises(http.UnsafeURLError, match="loopback"):
        http.check_url("https://mixed.example/")


def test_public_addresses_pass_and_are_returned(resolver):
    assert http.check_url("https://public.example/feed.xml") == [PUBLIC_IP]
    assert http.check_url("http://8.8.8.8/") == ["8.8.8.8"]
    assert http.check_url("http://[2606:4700::1111]/") == ["2606:4700::1111"]


def test_an_unresolvable_name_is_an_outbound_error_not_unsafe():
    with pytest.raises(http.OutboundError) as failed:
        http.check_url("https://nowhere.invalid/")
    assert not isinstance(failed.value, http.UnsafeURLError)


def test_private_addresses_pass_when_allowed_by_argument_or_setting(settings):
    assert http.check_url("http://127.0.0.1:8000/", allow_private=True) == []
    settings.SMMDESK_ALLOW_PRIVATE_URLS = True
    assert http.check_url("http://10.0.0.1/") == []
    with pytest.raises(http.UnsafeURLError):
        http.check_url("http://10.0.0.1/", allow_private=False)


def test_request_to_a_local_server_is_refused_before_anything_is_sent(server):
    with pytest.raises(http.UnsafeURLError):
        http.get(f"{server.base}/ok")
    assert server.requests == []


def test_dns_rebinding_between_check_and_connect_is_refused(server, resolver):
    # The first lookup (the check) says public, the second (the connection) says loopback.
    resolver.table["rebind.example"] = [[PUBLIC_IP], ["127.0.0.1"]]
    with pytest.raises(http.UnsafeURLError, match="loopback"):
        http.get(f"http://rebind.example:{server.port}/ok", retries=0)
    assert resolver.lookups.count("rebind.example") == 2
    assert server.requests == []


def test_the_connection_goes_to_the_address_the_guard_resolved(server, resolver, allow_private):
    resolver.table["feeds.example"] = [["127.0.0.1"]]
    server.routes["/ok"] = [(200, {}, b"hello")]
    response = http.get(f"http://feeds.example:{server.port}/ok")
    assert response.text == "hello"
    assert server.requests[0]["headers"]["Host"] == f"feeds.example:{server.port}"
    assert "feeds.example" in resolver.lookups


def test_allowed_private_request_works_and_sends_the_user_agent(server, allow_private):
    server.routes["/ok"] = [(200, {"Content-Type": "text/plain"}, b"fine")]
    response = http.get(f"{server.base}/ok")
    assert response.status_code == 200
    assert response.text == "fine"
    assert server.requests[0]["headers"]["User-Agent"].startswith("smmdesk/")
    assert server.requests[0]["headers"]["User-Agent"].endswith("(+self-hosted)")


def test_configured_urls_skip_the_guard(server):
    server.routes["/api"] = [(200, {}, b"{}")]
    assert http.get(f"{server.base}/api", user_url=False).status_code == 200


# --- redirects --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://localhost:6379/",
        "http://[::1]/",
        "http://2130706433/",
        "file:///etc/passwd",
    ],
)
def test_a_redirect_from_a_public_url_to_a_private_one_is_refused(target):
    with respx.mock(assert_all_called=False) as mock:
        mock.get("https://public.example/feed").respond(302, headers={"Location": target})
        inner = mock.get(url__regex=r"^(?!https://public\.example).*").respond(200, text="secret")
        with pytest.raises(http.UnsafeURLError):
            http.get("https://public.example/feed")
        assert not inner.called


def test_a_redirect_from_a_configured_url_is_followed_without_the_guard():
    with respx.mock() as mock:
        mock.get("https://api.example/v1").respond(301, headers={"Location": "http://10.0.0.1/v1"})
        mock.get("http://10.0.0.1/v1").respond(200, json={"ok": True})
        assert http.get("https://api.example/v1", user_url=False).json() == {"ok": True}


def test_redirects_are_followed_and_303_turns_post_into_get(server, allow_private):
    server.routes["/form"] = [(303, {"Location": "/step"}, b"")]
    server.routes["/step"] = [(302, {"Location": f"{server.base}/done"}, b"")]
    server.routes["/done"] = [(200, {}, b"done")]
    response = http.post(f"{server.base}/form", data={"a": "1"})
    assert response.text == "done"
    assert [(r["method"], r["path"]) for r in server.requests] == [
        ("POST", "/form"),
        ("GET", "/step"),
        ("GET", "/done"),
    ]


def test_more_than_five_redirects_is_an_error(server, allow_private):
    server.routes["/loop"] = [(302, {"Location": "/loop"}, b"")]
    with pytest.raises(http.OutboundError, match="redirects"):
        http.get(f"{server.base}/loop")
    assert len(server.requests) == http.MAX_REDIRECTS + 1


def test_redirects_can_be_left_to_the_caller(server, allow_private):
    server.routes["/moved"] = [(301, {"Location": "/new"}, b"")]
    response = http.get(f"{server.base}/moved", follow_redirects=False)
    assert response.status_code == 301
    assert server.paths() == ["/moved"]


# --- retries ----------------------------------------------------------------------------------------


def test_503_is_retried_with_growing_jittered_backoff_then_succeeds(server, sleeps, allow_private):
    server.routes["/flaky"] = [(503, {}, b""), (503, {}, b""), (200, {}, b"ok")]
    response = http.get(f"{server.base}/flaky")
    assert response.text == "ok"
    assert server.paths() == ["/flaky"] * 3
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0


def test_retry_after_in_seconds_is_honoured(server, sleeps, allow_private):
    server.routes["/limited"] = [(429, {"Retry-After": "7"}, b""), (200, {}, b"ok")]
    assert http.get(f"{server.base}/limited").text == "ok"
    assert sleeps == [7.0]


def test_retry_after_as_an_http_date_is_honoured(server, sleeps, allow_private):
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=12), usegmt=True)
    server.routes["/limited"] = [(503, {"Retry-After": later}, b""), (200, {}, b"ok")]
    with time_machine.travel(now, tick=False):
        assert http.get(f"{server.base}/limited").text == "ok"
    assert sleeps == [12.0]


def test_a_retry_after_beyond_the_cap_is_not_slept_through(server, sleeps, allow_private):
    server.routes["/limited"] = [(429, {"Retry-After": "3600"}, b"")]
    with pytest.raises(http.OutboundError) as failed:
        http.get(f"{server.base}/limited")
    assert failed.value.status == 429
    assert failed.value.retry_after == 3600.0
    assert not failed.value.permanent
    assert sleeps == []
    assert len(server.requests) == 1


def test_404_is_not_retried(server, sleeps, allow_private):
    server.routes["/missing"] = [(404, {}, b"nope")]
    with pytest.raises(http.OutboundError) as failed:
        http.get(f"{server.base}/missing")
    assert failed.value.status == 404
    assert failed.value.permanent
    assert failed.value.response.text == "nope"
    assert sleeps == []
    assert len(server.requests) == 1


def test_an_error_status_can_be_returned_instead_of_raised(server, allow_private):
    server.routes["/bad"] = [(400, {}, b'{"error": "bad chat id"}')]
    response = http.post(f"{server.base}/bad", json={}, raise_for_status=False)
    assert response.status_code == 400
    assert response.json() == {"error": "bad chat id"}


def test_retries_run_out_and_the_last_status_is_raised(server, sleeps, allow_private):
    server.routes["/down"] = [(500, {}, b"")]
    with pytest.raises(http.OutboundError) as failed:
        http.get(f"{server.base}/down", retries=2)
    assert failed.value.status == 500
    assert len(server.requests) == 3
    assert len(sleeps) == 2


def test_a_post_is_not_repeated_after_a_500_but_is_after_a_503(server, sleeps, allow_private):
    server.routes["/publish"] = [(500, {}, b"")]
    with pytest.raises(http.OutboundError):
        http.post(f"{server.base}/publish", json={"text": "hi"})
    assert len(server.requests) == 1
    server.routes["/busy"] = [(503, {}, b""), (201, {}, b"made")]
    assert http.post(f"{server.base}/busy", json={"text": "hi"}).status_code == 201
    server.routes["/keyed"] = [(500, {}, b""), (201, {}, b"made")]
    assert http.post(f"{server.base}/keyed", json={}, idempotent=True).status_code == 201


def test_error_messages_do_not_carry_the_path(server, allow_private):
    server.routes["/bot123:SECRET/send"] = [(401, {}, b"")]
    with pytest.raises(http.OutboundError) as failed:
        http.post(f"{server.base}/bot123:SECRET/send", json={})
    assert "SECRET" not in str(failed.value)
    assert "401" in str(failed.value)
    assert f"127.0.0.1:{server.port}" in str(failed.value)


# --- timeouts and connection errors -----------------------------------------------------------------


def test_a_read_timeout_raises_outbound_error(server, allow_private):
    with pytest.raises(http.OutboundError, match="timed out") as failed:
        http.get(f"{server.base}/hang", timeout=0.2, retries=0)
    assert failed.value.status is None


def test_timeouts_are_retried_for_get_but_not_for_post(sleeps):
    with respx.mock() as mock:
        route = mock.get("http://api.example/x").mock(
            side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, text="ok")]
        )
        assert http.get("http://api.example/x", user_url=False).text == "ok"
        assert route.call_count == 2
        assert len(sleeps) == 1
        post = mock.post("http://api.example/y").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(http.OutboundError, match="timed out"):
            http.post("http://api.example/y", user_url=False)
        assert post.call_count == 1


def test_connection_refused_is_retried_then_raised(sleeps, allow_private):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(http.OutboundError, match="ConnectError") as failed:
        http.post(f"http://127.0.0.1:{port}/", json={}, retries=2)
    assert failed.value.status is None
    assert len(sleeps) == 2


def test_parse_retry_after():
    assert http.parse_retry_after("120") == 120.0
    assert http.parse_retry_after(None) is None
    assert http.parse_retry_after("soon") is None
    with time_machine.travel(datetime(2025, 1, 1, tzinfo=UTC), tick=False):
        assert http.parse_retry_after("Wed, 01 Jan 2025 00:00:30 GMT") == 30.0
        assert http.parse_retry_after("Tue, 31 Dec 2024 23:00:00 GMT") == 0.0


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("::ffff:127.0.0.1", "loopback"),
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:a9fe:a9fe::", "link-local"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_forbidden_reason_looks_inside_ipv4_embedded_in_ipv6(address, reason):
    assert http.forbidden_reason(address) == reason
