"""The RSS/Atom adapter against a local HTTP server (mock_api): conditional GET, listening, errors."""

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.cache import cache

from smmdesk.channels import actions as channel_actions
from smmdesk.channels import health
from smmdesk.channels.base import AdapterError
from smmdesk.channels.forms import build_form_class
from smmdesk.channels.models import Channel
from smmdesk.channels.rss import adapter as rss_adapter
from smmdesk.channels.rss.adapter import RSSAdapter, RSSConfig
from smmdesk.inbox.ingest_tasks import can_poll
from smmdesk.inbox.models import Notification, RawEvent

FIXTURES = Path(__file__).parent / "fixtures"
ETAG = '"7781-a"'
MODIFIED = "Tue, 11 Mar 2025 09:41:01 GMT"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    cache.clear()  # rate-limit budgets and cached feeds
    waits: list[float] = []
    monkeypatch.setattr(rss_adapter, "_sleep", waits.append)
    yield
    cache.clear()


class Site:
    """A feed served with ETag and Last-Modified, answering 304 to a matching conditional request."""

    def __init__(self, api, path: str, body: bytes, content_type="application/rss+xml; charset=utf-8"):
        self.body, self.etag, self.modified, self.content_type = body, ETAG, MODIFIED, content_type
        self.url = api.base + path
        api.route("GET", path)(self.answer)

    def answer(self, request):
        if (
            request.headers.get("if-none-match") == self.etag
            or request.headers.get("if-modified-since") == self.modified
            and not request.headers.get("if-none-match")
        ):
            return 304, {"ETag": self.etag}, b""
        return (
            200,
            {"Content-Type": self.content_type, "ETag": self.etag, "Last-Modified": self.modified},
            self.body,
        )


def make(*urls: str) -> RSSAdapter:
    return RSSAdapter(RSSConfig(feed_url=urls[0], more_feed_urls=" ".join(urls[1:])))


def test_kind_is_listed_and_its_form_builds():
    [info] = [k for k in channel_actions.describe_kinds() if k.kind == "rss"]
    assert set(info.capabilities) == {"search"}
    assert {"feed_url", "more_feed_urls"} <= set(build_form_class(RSSAdapter)().fields)
    # Listening only: the inbox never polls a feed.
    assert not can_poll(RSSAdapter)


@pytest.mark.parametrize(
    "values",
    [
        {"feed_url": "ftp://news.example/rss"},
        {"feed_url": "https://a.example/rss https://b.example/rss"},
        {
            "feed_url": "https://a.example/rss",
            "more_feed_urls": " ".join(f"https://{n}.example/" for n in range(10)),
        },
        {"feed_url": ""},
    ],
)
def test_config_refuses_bad_addresses(values):
    with pytest.raises(ValueError):
        RSSConfig(**values)


def test_check_names_the_feed(mock_api):
    site = Site(mock_api, "/rss", load("rss2.xml"))
    info = make(site.url).check()
    assert info.external_id == site.url
    assert (info.name, info.url) == ("Оренбург: городские новости", "https://news.orenburg.example/")


def test_poll_uses_conditional_get_and_a_304_brings_nothing(mock_api):
    site = Site(mock_api, "/rss", load("rss2.xml"))
    adapter = make(site.url)
    events, cursor = adapter.poll(None)
    assert [e.raw["subject"] for e in events] == [
        "В Ленинском районе открылся новый салон красоты",
        "Пробки на проспекте Победы",
        "",
    ]
    assert {e.kind for e in events} == {"mention"}
    assert events[0].external_id == "news.orenburg.example/7781"
    assert events[0].author_name == "Анна Смирнова"
    assert events[0].raw["link"] == "https://news.orenburg.example/2025/03/11/salon"
    state = json.loads(cursor)
    assert list(state.values()) == [
        [ETAG, MODIFIED, int(datetime(2025, 3, 11, 9, 39, 21, tzinfo=UTC).timestamp())]
    ]

    assert adapter.poll(cursor) == ([], cursor)
    sent = mock_api.calls("GET", "/rss")[-1].headers
    assert (sent["if-none-match"], sent["if-modified-since"]) == (ETAG, MODIFIED)

    # The feed changes: only the new entry comes (and the undated one, which cannot be placed).
    site.etag = '"7782-b"'
    site.body = load("rss2.xml").replace(
        b"<item>",
        b"<item><title>New</title><guid>n-1</guid><pubDate>Wed, 12 Mar 2025 10:00:00 GMT</pubDate></item><item>",
        1,
    )
    events, cursor = adapter.poll(cursor)
    assert [e.external_id for e in events] == ["n-1", events[1].external_id]
    assert events[1].external_id.startswith("sha256:")
    assert json.loads(cursor)[next(iter(state))][0] == '"7782-b"'


def test_last_modified_alone_is_enough(mock_api):
    site = Site(mock_api, "/atom", load("atom.xml"), "application/atom+xml")
    site.etag = ""
    mock_api.routes[("GET", "/atom")] = lambda request: (
        (304, {}, b"")
        if request.headers.get("if-modified-since") == MODIFIED
        else (200, {"Last-Modified": MODIFIED}, site.body)
    )
    adapter = make(site.url)
    events, cursor = adapter.poll(None)
    assert len(events) == 2
    assert adapter.poll(cursor) == ([], cursor)
    assert "if-none-match" not in mock_api.calls("GET", "/atom")[-1].headers


def test_poll_reads_every_feed_and_the_cursor_stays_small(mock_api):
    rss = Site(mock_api, "/rss", load("rss2.xml"))
    rdf = Site(mock_api, "/rdf", load("rss1.rdf"), "application/rdf+xml")
    atom = Site(mock_api, "/atom", load("atom.xml"), "application/atom+xml")
    urls = [rss.url, rdf.url, atom.url] + [f"{rss.url}?copy={n}" for n in range(7)]
    events, cursor = make(*urls).poll(None)
    assert len(events) == 3 + 2 + 2 + 7 * 3
    assert len(cursor) <= 500 and len(json.loads(cursor)) == 10


def test_search_filters_by_words_and_date_and_reuses_the_feed_on_304(mock_api):
    rss = Site(mock_api, "/rss", load("rss2.xml"))
    rdf = Site(mock_api, "/rdf", load("rss1.rdf"), "application/rdf+xml")
    adapter = make(rss.url, rdf.url)
    # Every word, anywhere in the title or text, in any case; "салон" also finds "в салоне".
    found = adapter.search("салон чкалова", None)
    assert [e.external_id for e in found] == [
        "news.orenburg.example/7781",
        found[1].external_id,  # the undated note
        "https://forum.orenburg.example/t/501",
    ]
    assert found[1].external_id.startswith("sha256:")
    # A second query: the sites answer 304, the entries come from the last full answer.
    found = adapter.search("подстричься", datetime(2025, 3, 12, tzinfo=UTC))
    assert [e.external_id for e in found] == ["https://forum.orenburg.example/t/501"]
    assert mock_api.calls("GET", "/rdf")[-1].headers["if-none-match"] == ETAG
    assert adapter.search("велосипед", datetime(2025, 3, 13, tzinfo=UTC)) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [("malformed.xml", "malformed"), ("entities.xml", "entities"), ("page.html", "not an RSS or Atom feed")],
)
def test_a_document_that_is_not_a_feed_is_a_permanent_error(mock_api, name, reason):
    site = Site(mock_api, "/feed", load(name))
    with pytest.raises(AdapterError) as caught:
        make(site.url).poll(None)
    assert caught.value.permanent and not caught.value.reconnect
    assert "not a feed smmdesk can read" in caught.value.message and reason in caught.value.message


def test_a_private_address_is_refused_when_not_allowed(mock_api, settings):
    site = Site(mock_api, "/rss", load("rss2.xml"))
    settings.SMMDESK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(AdapterError) as caught:
        make(site.url).check()
    assert caught.value.permanent and "loopback" in caught.value.message
    assert mock_api.requests == []


def test_429_waits_as_told_then_reads(mock_api, no_backoff):
    site = Site(mock_api, "/rss", load("rss2.xml"))
    answers = [(429, {"Retry-After": "7"}, b""), (429, {"Retry-After": "3"}, b"")]
    mock_api.routes[("GET", "/rss")] = lambda request: answers.pop(0) if answers else site.answer(request)
    events, _cursor = make(site.url).poll(None)
    assert no_backoff == [7.0, 3.0] and len(events) == 3


def test_429_beyond_a_minute_is_left_to_the_task_queue(mock_api, no_backoff):
    mock_api.routes[("GET", "/rss")] = lambda request: (429, {"Retry-After": "600"}, b"")
    with pytest.raises(AdapterError) as caught:
        make(mock_api.base + "/rss").poll(None)
    assert caught.value.retry_after == 600.0 and no_backoff == []


@pytest.mark.parametrize(("status", "permanent"), [(404, True), (410, True), (503, False)])
def test_other_failures_are_told_apart(mock_api, no_backoff, status, permanent):
    mock_api.routes[("GET", "/rss")] = lambda request: (status, {}, b"")
    with pytest.raises(AdapterError) as caught:
        make(mock_api.base + "/rss").poll(None)
    assert caught.value.permanent is permanent and not caught.value.reconnect


def test_a_feed_that_shuts_us_out_needs_reconnect_and_tells_the_owner(
    cast, mock_api, django_capture_on_commit_callbacks, caplog
):
    private = mock_api.base + "/private.rss?token=feed-Tok-39ab"
    mock_api.routes[("GET", "/private.rss")] = lambda request: (401, {}, b"token revoked")
    channel = channel_actions.create_channel(cast.workspace, "rss", "City news", {"feed_url": private})
    with caplog.at_level(logging.DEBUG), pytest.raises(AdapterError) as caught:
        channel.adapter().poll(None)
    assert caught.value.reconnect
    with django_capture_on_commit_callbacks(execute=True):
        assert health.record_failure(channel, caught.value) == "reconnect"
    channel.refresh_from_db()
    assert channel.status == Channel.Status.NEEDS_RECONNECT
    [notice] = Notification.objects.filter(membership__user=cast.users["owner"])
    assert "City news" in notice.text
    # Error texts name the host only: a token in the address stays out of the channel page and our logs.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("smmdesk")]
    assert "feed-Tok-39ab" not in caught.value.message + channel.last_error + "".join(ours)


def test_a_huge_feed_is_refused(mock_api, monkeypatch):
    monkeypatch.setattr(rss_adapter, "MAX_FEED_BYTES", 100)
    site = Site(mock_api, "/rss", load("rss2.xml"))
    with pytest.raises(AdapterError) as caught:
        make(site.url).poll(None)
    assert caught.value.permanent


def test_requests_are_paced_per_site(mock_api, monkeypatch, time_machine):
    waits: list[float] = []
    monkeypatch.setattr(rss_adapter, "_sleep", waits.append)
    time_machine.move_to(datetime(2025, 3, 10, 9, 0, 0, 250_000, tzinfo=UTC), tick=False)
    site = Site(mock_api, "/rss", load("rss2.xml"))
    make(site.url, *[f"{site.url}?n={n}" for n in range(5)]).poll(None)
    assert waits == [0.75]  # five a second per site: the sixth waits for the next second


def test_the_webhook_address_takes_nothing_for_a_feed(cast, client, mock_api):
    channel = channel_actions.create_channel(
        cast.workspace, "rss", "News", {"feed_url": mock_api.base + "/rss"}
    )
    response = client.post(f"/hooks/{channel.pk}/", data=b"{}", content_type="application/json")
    assert response.status_code == 404 and RawEvent.objects.count() == 0


def test_one_broken_feed_does_not_cost_the_others(mock_api, caplog):
    site = Site(mock_api, "/rss", load("rss2.xml"))
    mock_api.routes[("GET", "/gone")] = lambda request: (410, {}, b"")
    events, cursor = make(mock_api.base + "/gone", site.url).poll(None)
    assert len(events) == 3 and len(json.loads(cursor)) == 1
    assert "feed skipped this time" in caplog.text
