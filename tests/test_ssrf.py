"""SSRF: the corpus of internal addresses (tests/corpus/ssrf/hosts.txt) through every way a member or a
remote party can make smmdesk fetch a URL: each is refused with a message that says why, and nothing
is fetched.

The entry points: a channel's check with the address as the feed (RSS/Atom) or as the network's base
URL a member may set (Mastodon, Bluesky, X, Telegram, VK, Facebook, Instagram), the mail servers of an
e-mail channel, a listening source's poll of a feed, media fetched by URL while publishing (Mastodon and
X download the picture and upload it), and the media links of an imported plan. smmdesk sends no
outbound webhooks (it only receives them), so there is no webhook target to check.

Each address is tried as it is and as the target of a redirect from a public URL. The wire is watched
below the SSRF guard: the tests' resolver answers from the corpus, a public name reaches a local server
playing the public site, and every connection attempt is recorded; the assertion is that no attempt
went anywhere but the public site, and that the local server never saw a request for an internal path.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import httpcore
import pytest
from django.core.cache import cache

from smmdesk.channels import actions as channel_actions
from smmdesk.channels.base import AdapterError, PostVariant
from smmdesk.channels.email import imap, smtp
from smmdesk.channels.models import Channel
from smmdesk.channels.rss import adapter as rss_adapter
from smmdesk.lib import http
from smmdesk.listening import sources
from smmdesk.listening.models import Source
from smmdesk.publishing.importer import read_plan

CORPUS = Path(__file__).parent / "corpus" / "ssrf" / "hosts.txt"
PUBLIC_IP = "93.184.215.14"
PUBLIC_HOST = "public.test"
INTERNAL = "/internal"


def load_corpus() -> tuple[list[str], dict[str, list[str]]]:
    """(hosts, DNS answers by lower-case name without the trailing dot)."""
    hosts, dns = [], {}
    for line in CORPUS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        host, _arrow, answers = line.partition("->")
        host = host.strip()
        hosts.append(host)
        if answers.strip():
            dns[host.rstrip(".").lower()] = answers.split()
    return hosts, dns


HOSTS, DNS = load_corpus()


def bare(host: str) -> str:
    """The host as a socket wants it: IPv6 without brackets."""
    return host[1:-1] if host.startswith("[") else host


class Resolver:
    """DNS for the tests: the corpus's answers, the public site, nothing else."""

    def __init__(self):
        self.lookups: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.lookups.append(host)
        name = host.rstrip(".").lower()
        answers = [PUBLIC_IP] if name == PUBLIC_HOST else DNS.get(name)
        if answers is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        infos = []
        for address in answers:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            infos.append((family, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos


class Wire(httpcore.NetworkBackend):
    """Below the SSRF guard: records every connection; the public site's address reaches the local
    server, any other address is not connected at all (the attempt alone is the failure)."""

    def __init__(self, inner: httpcore.NetworkBackend, port: int, attempts: list[str]):
        self.inner, self.port, self.attempts = inner, port, attempts

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.attempts.append(host)
        if host != PUBLIC_IP:
            raise httpcore.ConnectError(f"test wire: {host} is not reachable from here")
        return self.inner.connect_tcp(
            "127.0.0.1",
            self.port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("test wire: no unix sockets")

    def sleep(self, seconds):
        pass


FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>City news</title>
<link>http://public.test/</link><item><guid>n-1</guid><title>Salon opens</title>
<link>http://public.test/n-1</link></item></channel></rss>"""


class PublicSite:
    """The public site: /to/<target in hex>/<rest> redirects (307, method kept) to target/<rest>;
    anything else answers 200. Every request is recorded with its Host header."""

    def __init__(self):
        self.requests: list[tuple[str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                site.requests.append((self.headers.get("Host", ""), self.path))
                if self.path.startswith("/to/"):
                    encoded, _slash, rest = self.path[len("/to/") :].partition("/")
                    self.send_response(307)
                    self.send_header("Location", bytes.fromhex(encoded).decode() + "/" + rest)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                feed = self.path.endswith(".rss")
                body = FEED if feed else b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml" if feed else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def net(monkeypatch, settings):
    settings.SMMDESK_ALLOW_PRIVATE_URLS = False
    resolver = Resolver()
    monkeypatch.setattr(http, "_getaddrinfo", resolver)
    monkeypatch.setattr(http, "_sleep", lambda seconds: None)
    monkeypatch.setattr(rss_adapter, "_sleep", lambda seconds: None)
    cache.clear()
    site = PublicSite()
    attempts: list[str] = []
    sockets: list[tuple] = []

    def no_sockets(address, *args, **kwargs):
        sockets.append(address)
        raise ConnectionRefusedError("test: no raw connections")

    # The mail channels open their own sockets (after the same guard); the HTTP wire is watched above.
    monkeypatch.setattr(imap, "socket", SimpleNamespace(socket=socket.socket, create_connection=no_sockets))
    http.close_clients()
    guarded = http.client(guarded=True)._transport._pool
    assert isinstance(guarded._network_backend, http._GuardedBackend)
    guarded._network_backend._inner = Wire(guarded._network_backend._inner, site.port, attempts)
    # The unguarded client too: a user-supplied URL sent through it by mistake shows up as an attempt.
    plain = http.client(guarded=False)._transport._pool
    plain._network_backend = Wire(plain._network_backend, site.port, attempts)
    yield SimpleNamespace(site=site, attempts=attempts, sockets=sockets, resolver=resolver)
    http.close_clients()
    site.stop()
    cache.clear()


def internal_url(host: str, path: str = "") -> str:
    return f"http://{host}:8080{INTERNAL}{path}"


def redirected_url(host: str, path: str = "") -> str:
    """A public address that redirects to the internal one (a base URL: paths appended to it follow)."""
    return f"http://{PUBLIC_HOST}/to/{internal_url(host).encode().hex()}{path}"


def cases():
    for host in HOSTS:
        for how, make in (("direct", internal_url), ("redirect", redirected_url)):
            # The feed reader paces its requests per site; here every redirect comes from one site.
            cache.clear()
            yield host, how, make


def assert_nothing_internal_fetched(net):
    leaked = [address for address in net.attempts if address != PUBLIC_IP]
    assert not leaked, f"connections attempted to internal addresses: {sorted(set(leaked))}"
    assert not net.sockets, f"raw connections attempted: {net.sockets}"
    internal = [request for request in net.site.requests if INTERNAL in request[1].split("/to/")[0]]
    assert not internal, internal


def is_refusal(message: str) -> bool:
    """The guard's words reach the person: "refused <host>: it points to a <kind> address (<ip>)", or
    "invalid URL ..." for a notation the HTTP client cannot send anywhere (typed in, or in a redirect)."""
    return ("refused" in message and "address" in message) or "invalid url" in message.lower()


def create_or_refuse(workspace, kind, name, values) -> tuple[Channel | None, str]:
    """The channel, or None and the form's message when the address is refused as it is typed in."""
    try:
        return channel_actions.create_channel(workspace, kind, name, values), ""
    except channel_actions.ChannelInputError as refused:
        return None, "; ".join(message for _field, message in refused.errors)


# --- channel checks: feeds and the base URLs a member may set -------------------------------------------

TOKEN = "tok-4f9a1c2b7d"
BASE_URL_CHANNELS = {
    "rss": lambda url: {"feed_url": url + "/feed.xml"},
    "mastodon": lambda url: {"instance_url": url, "access_token": TOKEN},
    "bluesky": lambda url: {
        "identifier": "salon.bsky.social",
        "app_password": "abcd-efgh-ijkl-mnop",
        "pds_url": url,
    },
    "x": lambda url: {"access_token": TOKEN, "client_id": "client-1", "api_url": url},
    "telegram": lambda url: {"bot_token": "123456:AAE-test-token_0123456789abcdef", "api_url": url},
    "vk": lambda url: {"group_id": 1, "access_token": TOKEN, "api_url": url},
    "facebook": lambda url: {
        "page_id": "123",
        "page_access_token": TOKEN,
        "app_secret": TOKEN,
        "graph_url": url,
    },
    "instagram": lambda url: {
        "ig_user_id": "1784",
        "access_token": TOKEN,
        "app_secret": TOKEN,
        "graph_url": url,
    },
}


@pytest.mark.parametrize("kind", sorted(BASE_URL_CHANNELS))
def test_a_channel_check_refuses_internal_base_urls_and_feeds(cast, net, kind):
    failures = []
    for n, (host, how, make) in enumerate(cases()):
        values = BASE_URL_CHANNELS[kind](make(host))
        channel, refused = create_or_refuse(cast.workspace, kind, f"{kind} {n}", values)
        if channel is None:
            if "not a web address" not in refused:
                failures.append((host, how, "form", refused))
            continue
        checked = channel_actions.check_channel(channel.pk)
        if checked.status == Channel.Status.OK or not is_refusal(checked.last_error):
            failures.append((host, how, checked.status, checked.last_error))
    assert not failures, failures
    assert_nothing_internal_fetched(net)


def test_the_refusal_is_shown_on_the_channels_page(cast, client, net):
    channel = channel_actions.create_channel(
        cast.workspace,
        "mastodon",
        "Mastodon",
        {"instance_url": "http://169.254.169.254", "access_token": TOKEN},
    )
    client.force_login(cast.users["owner"])
    page = client.post(f"/w/{cast.workspace.slug}/settings/channels/{channel.pk}/check/", follow=True)
    text = page.content.decode()
    assert "refused 169.254.169.254: it points to a link-local address (169.254.169.254)" in text
    assert_nothing_internal_fetched(net)


def test_an_email_channel_refuses_internal_mail_servers(cast, net):
    failures = []
    for n, host in enumerate(HOSTS):
        values = {
            "from_address": "salon@example.com",
            "imap_host": bare(host),
            "username": "salon@example.com",
            "password": "app-password-1",
            "smtp_host": bare(host),
        }
        channel, refused = create_or_refuse(cast.workspace, "email", f"mail {n}", values)
        if channel is None:
            if "Enter a server name" not in refused:
                failures.append(("form", host, refused))
        else:
            checked = channel_actions.check_channel(channel.pk)
            if checked.status == Channel.Status.OK or not is_refusal(checked.last_error):
                failures.append(("imap", host, checked.last_error))
        try:
            with smtp.session(
                host=bare(host), port=587, security="starttls", username="u", password="p", timeout=5
            ):
                pass
        except http.UnsafeURLError as exc:
            if not is_refusal(exc.message):
                failures.append(("smtp", host, exc.message))
        else:
            failures.append(("smtp", host, "connected"))
    assert not failures, failures
    assert_nothing_internal_fetched(net)


# --- listening: a feed source's poll --------------------------------------------------------------------


def test_a_listening_feed_source_refuses_internal_feeds(cast, net):
    failures = []
    for n, (host, how, make) in enumerate(cases()):
        channel, refused = create_or_refuse(
            cast.workspace, "rss", f"feed {n}", {"feed_url": make(host, "/rss")}
        )
        if channel is None:
            if "not a web address" not in refused:
                failures.append((host, how, "form", refused))
            continue
        source = Source.objects.create(workspace=cast.workspace, channel=channel, kind=Source.Kind.FEED)
        assert sources.claim(source.pk)
        polled = sources.poll_source(source.pk)
        if polled.health != Source.Health.FAILING or not is_refusal(polled.last_error):
            failures.append((host, how, polled.health, polled.last_error))
    assert not failures, failures
    assert_nothing_internal_fetched(net)


def test_a_further_feed_of_a_channel_is_refused_by_the_check_and_never_read(cast, net):
    """One public feed does not vouch for the channel's other feeds: the check names the refused one, and
    polling reads the public feed while never fetching the internal one."""
    channel = channel_actions.create_channel(
        cast.workspace,
        "rss",
        "News",
        {
            "feed_url": f"http://{PUBLIC_HOST}/news.rss",
            "more_feed_urls": internal_url("169.254.169.254", "/rss"),
        },
    )
    checked = channel_actions.check_channel(channel.pk)
    assert checked.last_error == (
        "rss: feed 2: refused 169.254.169.254: it points to a link-local address (169.254.169.254)"
    )
    source = Source.objects.create(workspace=cast.workspace, channel=channel, kind=Source.Kind.FEED)
    assert sources.claim(source.pk)
    sources.poll_source(source.pk)
    assert (PUBLIC_HOST, "/news.rss") in net.site.requests
    assert_nothing_internal_fetched(net)


# --- media fetched by URL while publishing --------------------------------------------------------------


MEDIA_CHANNELS = {
    "mastodon": {"instance_url": f"http://{PUBLIC_HOST}", "access_token": TOKEN},
    "x": {"access_token": TOKEN, "client_id": "client-1", "api_url": f"http://{PUBLIC_HOST}"},
}


@pytest.mark.parametrize("kind", sorted(MEDIA_CHANNELS))
def test_publishing_refuses_to_download_media_from_internal_addresses(cast, net, kind):
    channel = channel_actions.create_channel(cast.workspace, kind, kind, MEDIA_CHANNELS[kind])
    adapter = channel.adapter()
    failures = []
    for host, how, make in cases():
        variant = PostVariant(text="Spring offer", media=[make(host, "/photo.jpg")])
        try:
            adapter.publish(variant, idempotency_key=f"k-{host}-{how}")
        except AdapterError as exc:
            # The guard's refusal is final; a redirect the client cannot even parse may be retried later.
            final = exc.permanent or "invalid url" in str(exc.message).lower()
            if not final or not is_refusal(str(exc.message)):
                failures.append((host, how, exc.permanent, exc.message))
        else:
            failures.append((host, how, "published"))
    assert not failures, failures
    assert_nothing_internal_fetched(net)
    # Nothing reached the network's API either: the post stopped at its picture.
    assert not [r for r in net.site.requests if not r[1].startswith("/to/")]


# --- the media links of an imported plan ----------------------------------------------------------------


def test_an_imported_plan_refuses_media_links_to_literal_internal_addresses(cast, net):
    """The plan import keeps media links without fetching them (the person uploads the file); a link
    that is visibly internal (an address literal in any notation, or localhost) is refused at once, and
    names are not even looked up."""
    from smmdesk.publishing.tests.feeds import make_channel

    make_channel(cast.workspace, "VK")
    literal = [
        host for host in HOSTS if bare(host).rstrip(".").lower() not in DNS or "localhost" in host.lower()
    ]
    rows = [f"2099-03-10,10:00,VK,Post {n},{internal_url(host, '/a.jpg')}" for n, host in enumerate(literal)]
    plan = read_plan(cast.workspace, "date,time,channels,text,media_url\n" + "\n".join(rows) + "\n")
    refused = {error.row for error in plan.errors if error.column == "media_url"}
    assert refused == set(range(2, len(rows) + 2)), [r.media_url for r in plan.good]
    message = next(error.message for error in plan.errors if error.column == "media_url")
    assert message == "The media URL points to a local or private network address; use a public web address."
    assert net.resolver.lookups == []
    assert_nothing_internal_fetched(net)


def test_the_corpus_guard_still_lets_the_public_site_through(cast, net):
    """The control: with the same wire, a public feed is fetched, so the refusals above are the guard's."""
    channel = channel_actions.create_channel(
        cast.workspace, "rss", "Public", {"feed_url": f"http://{PUBLIC_HOST}/news.rss"}
    )
    checked = channel_actions.check_channel(channel.pk)
    assert checked.status == Channel.Status.OK, checked.last_error
    assert (f"{PUBLIC_HOST}", "/news.rss") in net.site.requests
    assert net.attempts == [PUBLIC_IP]
