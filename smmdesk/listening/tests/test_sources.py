"""Polling sources: claims, one task per source, per-term search cursors, feeds, health and backoff. A
timeout, a 404 and a document that is not a feed each show in their own source's health and stop no
other source."""

from datetime import timedelta

import httpx
import pytest
from django.core.cache import cache
from django.utils import timezone

from smmdesk.channels import actions as channel_actions
from smmdesk.channels.base import AdapterError
from smmdesk.channels.fake.adapter import FakeAdapter, FakeNetwork
from smmdesk.channels.models import Channel
from smmdesk.channels.rss import adapter as rss_adapter
from smmdesk.listening import sources, tasks
from smmdesk.listening.models import Mention, Source

from .backend_fixtures import *  # noqa: F403
from .backend_fixtures import NEUTRAL, NOW, POSITIVE, event, fake_channel, make_source, make_term, on_network

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Оренбург сегодня</title><link>https://news.example/</link>
<item><guid>n-1</guid><title>Салоны Ленинского района</title>
<description>Открылся новый зал салона Локон на Ленинском.</description>
<link>https://news.example/n-1</link><pubDate>Tue, 10 Mar 2026 08:00:00 GMT</pubDate></item>
<item><guid>n-2</guid><title>Погода</title><description>Завтра снег.</description>
<link>https://news.example/n-2</link><pubDate>Tue, 10 Mar 2026 08:30:00 GMT</pubDate></item>
</channel></rss>"""


@pytest.fixture(autouse=True)
def _no_waits(monkeypatch):
    cache.clear()
    monkeypatch.setattr(rss_adapter, "_sleep", lambda seconds: None)
    yield
    cache.clear()


def poll(source):
    assert sources.claim(source.pk)
    return sources.poll_source(source.pk)


# --- claiming ------------------------------------------------------------------------------------------


def test_due_sources_are_claimed_once(clock, salon):
    due = make_source(salon, channel=fake_channel(salon, "A", "a"))
    later = make_source(salon, channel=fake_channel(salon, "B", "b"), next_poll_at=NOW + timedelta(minutes=3))
    paused = make_source(salon, channel=fake_channel(salon, "C", "c"), active=False)
    own = make_source(salon, kind=Source.Kind.OWN, channel=fake_channel(salon, "D", "d"))
    assert sources.claim_due() == [due.pk]
    assert sources.claim_due() == []  # a second scheduler finds it taken
    due.refresh_from_db()
    assert due.claimed_until == NOW + sources.LEASE
    for other in (later, paused, own):
        other.refresh_from_db()
        assert other.claimed_until is None


def test_a_lease_of_a_dead_worker_runs_out(clock, source):
    assert sources.claim_due() == [source.pk]
    clock.shift(sources.LEASE + timedelta(seconds=1))
    assert sources.claim_due() == [source.pk]


def test_the_minute_task_queues_one_poll_per_claimed_source(clock, salon, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "poll_source_task", queued.append)
    first = make_source(salon, channel=fake_channel(salon, "A", "a"))
    second = make_source(salon, channel=fake_channel(salon, "B", "b"))
    tasks.poll_sources.call_local()
    tasks.poll_sources.call_local()
    assert queued == [first.pk, second.pk]


def test_a_poll_task_run_twice_polls_once(clock, source, lokon, monkeypatch):
    calls = []
    real = FakeAdapter.search
    monkeypatch.setattr(FakeAdapter, "search", lambda self, q, since: calls.append(q) or real(self, q, since))
    assert sources.claim(source.pk)
    sources.poll_source(source.pk)
    sources.poll_source(source.pk)  # the same task again, after the first finished
    assert calls == ["Локон"]
    # Unclaimed (nobody queued it), a poll does nothing either.
    clock.shift(timedelta(hours=1))
    sources.poll_source(source.pk)
    assert calls == ["Локон"]


def test_a_second_copy_running_alongside_steps_back(clock, source, lokon, monkeypatch):
    calls = []

    def search(self, query, since):
        calls.append(query)
        if len(calls) == 1:
            sources.poll_source(source.pk)  # the duplicate starts while the first is at the network
        return []

    monkeypatch.setattr(FakeAdapter, "search", search)
    poll(source)
    assert calls == ["Локон"]


# --- searching -----------------------------------------------------------------------------------------


def test_search_asks_per_term_since_the_newest_mention_seen(clock, salon, source, monkeypatch):
    lokon = make_term(salon, "Локон")
    tag = make_term(salon, "#стрижка", kind="hashtag")
    make_term(salon, "Шик", active=False)
    asked = []
    real = FakeAdapter.search
    monkeypatch.setattr(
        FakeAdapter, "search", lambda self, q, since: asked.append((q, since)) or real(self, q, since)
    )
    newest = NOW - timedelta(minutes=30)
    on_network("net", event("p1", POSITIVE, when=NOW - timedelta(hours=3)), event("p2", NEUTRAL, when=newest))
    done = poll(source)
    assert sorted(asked) == sorted(
        [("Локон", NOW - sources.FIRST_LOOKBACK), ("#стрижка", NOW - sources.FIRST_LOOKBACK)]
    )
    assert done.health == Source.Health.OK and done.found_total == 2 and done.failures == 0
    assert done.last_ok_at == NOW and done.next_poll_at == NOW + timedelta(minutes=done.interval_minutes)
    assert done.claimed_until is None
    asked.clear()
    clock.shift(timedelta(minutes=done.interval_minutes))
    poll(source)
    assert dict(asked) == {"Локон": newest, "#стрижка": NOW - sources.FIRST_LOOKBACK}
    assert Mention.objects.count() == 2
    assert lokon.mentions.count() == 2 and tag.mentions.count() == 0


def test_more_terms_than_one_poll_takes_each_get_their_turn(clock, salon, source, monkeypatch):
    monkeypatch.setattr(sources, "MAX_TERMS_PER_POLL", 2)
    for phrase in ("Альфа", "Бета", "Гамма"):
        make_term(salon, phrase)
    asked = []
    monkeypatch.setattr(FakeAdapter, "search", lambda self, q, since: asked.append(q) or [])
    poll(source)
    clock.shift(timedelta(minutes=15))
    poll(source)
    assert asked[:2] == ["Альфа", "Бета"] and asked[2] == "Гамма"


# --- feeds and failures --------------------------------------------------------------------------------


def rss_source(salon, mock_api, name, path, interval=10) -> Source:
    channel = channel_actions.create_channel(salon, "rss", name, {"feed_url": f"{mock_api.base}{path}"})
    return make_source(salon, kind=Source.Kind.FEED, channel=channel, interval_minutes=interval)


@pytest.fixture
def sites(mock_api, monkeypatch, no_backoff):
    """One good feed, one that times out, one that is gone (404) and one that is not a feed."""
    rss = {"Content-Type": "application/rss+xml; charset=utf-8"}
    mock_api.route("GET", "/good.xml")(lambda r: (200, rss, FEED))
    mock_api.route("GET", "/page.html")(
        lambda r: (200, {"Content-Type": "text/html"}, "<html><body>Hi</body>")
    )
    real_send = httpx.Client.send

    def send(client, request, **kwargs):
        if request.url.path == "/slow.xml":
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        return real_send(client, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", send)
    return mock_api


def test_failures_show_in_their_own_sources_health_and_stop_no_other(clock, salon, lokon, sites):
    slow = rss_source(salon, sites, "Slow", "/slow.xml")
    gone = rss_source(salon, sites, "Gone", "/gone.xml")
    page = rss_source(salon, sites, "Page", "/page.html")
    good = rss_source(salon, sites, "Good", "/good.xml")
    for source_id in sources.claim_due():
        sources.poll_source(source_id)
    slow, gone, page, good = (Source.objects.get(pk=s.pk) for s in (slow, gone, page, good))
    assert "timed out" in slow.last_error
    assert "404" in gone.last_error
    assert "not a feed" in page.last_error
    for failed in (slow, gone, page):
        assert (failed.health, failed.failures, failed.last_ok_at) == (Source.Health.FAILING, 1, None)
        assert failed.next_poll_at == NOW + timedelta(minutes=20) and failed.claimed_until is None
    assert (good.health, good.failures, good.last_error, good.found_total) == (Source.Health.OK, 0, "", 1)
    mention = Mention.objects.get()
    assert mention.source_id == good.pk and mention.url == "https://news.example/n-1"
    assert "Салоны Ленинского района" in mention.text
    # The channels themselves are not blamed for a feed that failed once.
    assert set(Channel.objects.values_list("status", flat=True)) == {Channel.Status.NEW}


def test_backoff_grows_with_each_failure_up_to_six_hours(clock, salon, lokon, sites):
    gone = rss_source(salon, sites, "Gone", "/gone.xml", interval=15)
    waits = []
    for _ in range(6):
        started = timezone.now()
        poll(gone)
        gone.refresh_from_db()
        waits.append((gone.next_poll_at - started).total_seconds() / 60)
        clock.move_to(gone.next_poll_at, tick=False)
    assert waits == [30, 60, 120, 240, 360, 360]
    assert gone.failures == 6


def test_success_after_failures_resets_the_count(clock, salon, lokon, sites):
    flaky = rss_source(salon, sites, "Flaky", "/flaky.xml")
    poll(flaky)
    sites.route("GET", "/flaky.xml")(lambda r: (200, {"Content-Type": "application/rss+xml"}, FEED))
    clock.shift(timedelta(minutes=20))
    done = poll(flaky)
    assert (done.health, done.failures, done.last_error) == (Source.Health.OK, 0, "")


def test_a_wait_the_network_asks_for_is_respected(clock, source, lokon, monkeypatch):
    def limited(self, query, since):
        raise AdapterError("fake: slow down", retry_after=3 * 3600)

    monkeypatch.setattr(FakeAdapter, "search", limited)
    done = poll(source)
    assert done.next_poll_at == NOW + timedelta(hours=3)
    assert sources.backoff(15, 1, retry_after=60) == timedelta(minutes=30)


def test_errors_are_stored_without_secrets_and_a_revoked_token_flags_the_channel(
    clock, source, lokon, monkeypatch
):
    token = "token-net-12345"

    def leaky(self, query, since):
        raise AdapterError(f"fake: refused token {token}", reconnect=True)

    monkeypatch.setattr(FakeAdapter, "search", leaky)
    done = poll(source)
    assert token not in done.last_error and "***" in done.last_error
    assert done.health == Source.Health.FAILING
    assert Channel.objects.get(pk=source.channel_id).status == Channel.Status.NEEDS_RECONNECT


def test_a_crash_is_a_failure_of_its_source_only(clock, salon, lokon, monkeypatch):
    broken = make_source(salon, channel=fake_channel(salon, "Broken", "broken"))
    fine = make_source(salon, channel=fake_channel(salon, "Fine", "fine"))
    on_network("fine", event("f1", POSITIVE))
    real = FakeAdapter.search

    def search(self, query, since):
        if self.config.account_id == "broken":
            raise KeyError("items")
        return real(self, query, since)

    monkeypatch.setattr(FakeAdapter, "search", search)
    for source_id in sources.claim_due():
        sources.poll_source(source_id)
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.health == Source.Health.FAILING and "items" in broken.last_error
    assert fine.health == Source.Health.OK and fine.found_total == 1


def test_a_disabled_channel_fails_its_source_without_calling_the_network(clock, source, lokon, monkeypatch):
    channel_actions.set_enabled(source.channel, False)
    monkeypatch.setattr(FakeAdapter, "search", lambda *a: pytest.fail("the network was called"))
    done = poll(source)
    assert done.health == Source.Health.FAILING and "disabled" in done.last_error


# --- own channels --------------------------------------------------------------------------------------


@pytest.fixture
def run_tasks():
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


def test_own_channel_comments_come_through_the_inbox(
    clock, salon, lokon, run_tasks, django_capture_on_commit_callbacks
):
    from smmdesk.inbox.ingest_tasks import poll_channel

    channel = fake_channel(salon, "Group", "group")
    own = make_source(salon, kind=Source.Kind.OWN, channel=channel)
    FakeNetwork.account("group").inbound.extend(
        [
            event("c1", POSITIVE, kind="comment"),
            event("c2", "Когда открываетесь?", kind="comment"),
            event("d1", POSITIVE, kind="dm"),
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        poll_channel(channel.pk)
    mention = Mention.objects.get()
    assert mention.external_id == "c1" and mention.source_id == own.pk and mention.conversation_id
    own.refresh_from_db()
    assert own.health == Source.Health.OK and own.found_total == 1
    # Heard again (a webhook repeated), nothing changes.
    with django_capture_on_commit_callbacks(execute=True):
        poll_channel(channel.pk)
    sources.take_in_own(own.pk, [event("c1", POSITIVE, kind="comment")])
    assert Mention.objects.count() == 1


def test_a_channel_without_an_own_source_is_not_listened_to(clock, salon, lokon, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "take_in_own_task", lambda *args: queued.append(args))
    channel = fake_channel(salon, "Group", "group")
    sources.on_inbox_events(channel.pk, [event("c1", POSITIVE, kind="comment")])
    assert queued == []
    own = make_source(salon, kind=Source.Kind.OWN, channel=channel)
    sources.on_inbox_events(channel.pk, [event("c1", POSITIVE, kind="comment")])
    # What listening put into the inbox itself is not heard again.
    sources.on_inbox_events(channel.pk, [event("m1", POSITIVE, listening_mention=5)])
    assert queued == [(own.pk, [event("c1", POSITIVE, kind="comment")])]
