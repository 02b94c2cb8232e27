"""The load generator of `smmdesk bench load` against Django's live test server: agents work the inbox
for a few minutes of virtual time (their think times and polls cost nothing), and what they count is
checked against what the server did: every request timed around the server's work, every failure
counted as an error. The full benchmark needs PostgreSQL, Redis and ten minutes; see docs/scaling.md."""

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.http import HttpResponseServerError
from pydantic import SecretStr

from smmdesk.bench import load, loadgen
from smmdesk.business.models import Department
from smmdesk.channels.base import InboundEvent
from smmdesk.inbox import conversation_views, views
from smmdesk.inbox.ingest import ingest
from smmdesk.inbox.models import RawEvent
from smmdesk.inbox.tests.test_views import make_channel

pytestmark = [pytest.mark.dbqueue, pytest.mark.django_db(transaction=True)]

SECRET = "smoke-secret"


class VirtualClock:
    """Time that passes only when slept: each agent has its own, so none waits on the wall clock."""

    def __init__(self):
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        await asyncio.sleep(0)


class ServerTimer:
    """The generator's stopwatch; it moves only when the server advances it inside a view."""

    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class SerialStats(loadgen.Stats):
    """One request at a time: the live server's threads share one in-memory SQLite connection, whose
    transactions would otherwise interleave (the real benchmark runs on PostgreSQL)."""

    lock: asyncio.Lock | None = None

    async def request(self, *args, **options):
        self.lock = self.lock or asyncio.Lock()
        async with self.lock:
            return await super().request(*args, **options)


@pytest.fixture
def desk(cast, live_server):
    workspace = cast.workspace
    channel = make_channel(workspace)
    config = channel.typed_config()
    config.webhook_secret = SecretStr(SECRET)
    channel.store_config(config)
    channel.save()
    now = datetime.now(UTC)
    ingest(
        channel,
        [
            InboundEvent(
                f"m{i}", "dm", f"u{i}", f"Customer {i}", f"Hello, question {i}", now - timedelta(minutes=i)
            )
            for i in range(8)
        ],
    )
    departments = [
        Department.objects.create(workspace=workspace, name=name).pk for name in ("Reception", "Quality")
    ]
    people = [cast.users[role] for role in ("agent", "smm_manager", "owner")]
    members = list(workspace.memberships.filter(user__in=people).values_list("pk", flat=True))
    return (
        loadgen.Desk(base_url=live_server.url, slug=workspace.slug, departments=departments, members=members),
        load.sessions_for(people),
        channel,
    )


def _run(desk, sessions, stats, rounds, inbound=None):
    return asyncio.run(
        loadgen.run(
            desk,
            sessions,
            seconds=3600,
            inbound=inbound,
            stats=stats,
            clock_for=lambda _i: VirtualClock(),
            rounds=rounds,
            stagger=0,
            # Django's test server cannot stream: the agents poll instead (the stream is tested below).
            live=False,
        )
    )


def test_each_request_is_timed_around_the_servers_work(desk, monkeypatch):
    desk, sessions, _channel = desk
    timer = ServerTimer()
    real = views._filtered_page

    def slow_list(request):
        timer.t += 0.25
        return real(request)

    # Every list page and every poll of it reads its page of conversations here.
    monkeypatch.setattr(views, "_filtered_page", slow_list)
    stats = _run(desk, sessions[:1], SerialStats(timer=timer), rounds=2)
    assert stats.error_count == 0, stats.table()
    # The list and its poll go through the slowed code, once per request; nothing else does.
    assert len(stats.times["list"]) == 2 and len(stats.times["updates"]) >= 2
    assert set(stats.times["list"] + stats.times["updates"]) == {0.25}
    others = [t for action, times in stats.times.items() if action not in ("list", "updates") for t in times]
    assert others and set(others) == {0.0}
    assert stats.percentiles("list")[:3] == (250.0, 250.0, 250.0)
    assert stats.requests == sum(len(times) for times in stats.times.values())


def test_failures_are_counted_as_errors_and_webhooks_as_deliveries(desk, monkeypatch):
    desk, sessions, channel = desk
    served = {"pages": 0, "failed": 0}
    real = conversation_views._page

    def flaky_page(request, conversation, status=200, **overrides):
        served["pages"] += 1
        if served["pages"] % 2 == 0:
            served["failed"] += 1
            return HttpResponseServerError("broken on purpose")
        return real(request, conversation, status, **overrides)

    monkeypatch.setattr(conversation_views, "_page", flaky_page)
    hooks = [
        loadgen.Hook(f"{desk.base_url}/hooks/{channel.pk}/", SECRET),
        loadgen.Hook(f"{desk.base_url}/hooks/{channel.pk}/", "a-wrong-secret"),
    ]
    items = [(i % 2, {"id": f"in{i}", "from": f"c{i}", "name": "Ann", "text": f"Hi {i}"}) for i in range(6)]
    stats = SerialStats()
    inbound = loadgen.Inbound(hooks, items, rate=2, stats=stats, clock=VirtualClock())
    _run(desk, sessions, stats, rounds=2, inbound=inbound)

    # Every conversation page the server built was one "open" request, and every failed one an error.
    assert served["failed"] > 0
    assert len(stats.times["open"]) == served["pages"]
    assert stats.errors[("open", "HTTP 500")] == served["failed"]
    # Three deliveries were signed right and stored; three with the wrong secret were refused (403).
    assert inbound.sent == 6 and inbound.accepted == 3
    assert inbound.delivered == {"in0", "in2", "in4"}
    assert stats.errors[("webhook", "HTTP 403")] == 3
    stored = [json.loads(bytes(raw.body))[0]["id"] for raw in RawEvent.objects.order_by("pk")]
    assert stored == ["in0", "in2", "in4"]
    assert stats.error_count == served["failed"] + 3
    assert any(re.match(r"\s+error: open HTTP 500 x\d+", line) for line in stats.table())


def test_a_server_that_is_gone_is_an_error_not_a_hang(desk):
    desk, sessions, _channel = desk
    gone = loadgen.Desk(base_url="http://127.0.0.1:9", slug=desk.slug, departments=[], members=[])
    stats = _run(gone, sessions[:1], loadgen.Stats(), rounds=1)
    assert stats.errors[("list", "ConnectError")] == 1
    assert stats.requests == 1


def test_an_agent_follows_its_pages_stream_as_a_browser_does():
    """The stream part against a scripted server: fetch on each event the open page shows, notices on
    a notice, the retry advice honoured, and an error status ends the stream as it ends an EventSource."""
    served = []
    streams = iter(
        [
            (
                200,
                "retry: 500\n\nevent: conversation\ndata: \n\n: waiting\n\nevent: list\ndata: \n\n"
                "event: notice\ndata: \n\nevent: conversation\ndata: \n\n",
            ),
            (403, ""),
        ]
    )

    async def body(text):
        for part in text.split(": waiting"):
            yield part.encode()

    def server(request):
        served.append(request.url.path + (f"?{request.url.query.decode()}" if request.url.query else ""))
        if request.url.path == "/stream/":
            status, text = next(streams)
            return httpx.Response(status, content=body(text))
        if request.url.path == "/live/" and request.url.query == b"v=1":
            return httpx.Response(200, text='<div id="conversation-live" hx-get="/live/?v=2">')
        if request.url.path == "/live/":
            return httpx.Response(204)
        return httpx.Response(200, json=[])

    async def main():
        client = httpx.AsyncClient(base_url="http://desk", transport=httpx.MockTransport(server))
        clock = VirtualClock()
        desk = loadgen.Desk(base_url="http://desk", slug="salon", departments=[], members=[])
        agent = loadgen.Agent(desk, client, stats, clock=clock, rng=None, until=3600, poll=30)
        agent.poll_url, agent.poll_action, agent.notices_url = "/live/?v=1", "live", "/notices/"
        await agent.follow("http://desk/stream/")
        await client.aclose()
        return agent, clock

    stats = loadgen.Stats()
    agent, clock = asyncio.run(main())
    assert served == ["/stream/", "/live/?v=1", "/notices/", "/live/?v=2", "/stream/"]
    assert agent.poll_url == "/live/?v=2" and agent.retry == 0.5 and clock.t == 0.5
    assert len(stats.times["stream"]) == 2 and stats.errors == {("stream", "HTTP 403"): 1}
    assert len(stats.times["live"]) == 2 and len(stats.times["notifications"]) == 1


def test_summary_line_has_the_promised_shape():
    stats = loadgen.Stats()
    for ms in range(1, 101):
        stats.record("list", ms / 1000, None)
    stats.record("webhook", 0.5, "HTTP 500")
    line = load.summary_line(200, 10, stats, 29990, 49.98, 7)
    assert line == (
        "load: 200 agents, 10 min, 101 requests, errors 1, p50 51 ms, p95 96 ms, p99 100 ms, "
        "inbound 29990 msg at 50.0/s, backlog at end 7"
    )


@pytest.mark.django_db
def test_the_bench_workspace_has_its_agents_channels_and_departments():
    from smmdesk.accounts.models import Membership
    from smmdesk.accounts.roles import Role
    from smmdesk.bench import ingest as bench_ingest
    from smmdesk.channels.models import Channel

    lines = []
    workspace, users, channels = load.build_workspace(10, echo=lines.append)
    members = Membership.objects.filter(workspace=workspace, user__in=users)
    assert members.count() == 10
    assert members.filter(role=Role.SMM_MANAGER).count() == 10 // load.MANAGER_EVERY
    assert all(member.departments.exists() for member in members)
    assert len(channels) == Channel.objects.filter(workspace=workspace, kind="fake").count() >= 4
    assert {secret for _channel, secret in channels} == {bench_ingest.SECRET}
    assert lines and "10 agents" in lines[-1]
