"""The load generator of `smmdesk bench load`: agents working the inbox over HTTP, and customers' messages
arriving through the fake network's webhook, both against a running server. Django-free: it only speaks
HTTP, so it measures what a browser and a network would see.

Why asyncio and httpx rather than locust: on two cores the generator shares the CPU with the web
processes, the workers and PostgreSQL. An agent spends almost all its time thinking, so 200 of them are
200 coroutines waiting on a timer in one process (a few MB, a small share of one core); locust would need
gevent and a process per core to do the same, and brings a web UI we do not need. httpx is already a
dependency.

An agent's round (think times in seconds, uniform over the range; see THINK):
1. opens the inbox list with one of the FILTERS presets (weights as in FILTERS) and scans it for 3-10 s;
2. opens one of the first PICK_FROM conversations and reads it for 5-20 s;
3. does one of ACTIONS: reply (types for 10-40 s first, then sets a status after it as in AFTER_REPLY),
   hand off to a random department with a note, assign it to a random colleague, or resolve it;
   each POST is answered with a redirect, which the agent follows as a browser does;
4. looks at the result for 2-6 s and starts again.
While a list or a conversation is open, the agent holds the page's live stream as the browser does
(inbox.js: an EventSource on the page's `data-live-stream`): on each event it fetches what changed, the
list or conversation fragment (answered 204 when what it shows did not change) or its notices, and when
the server ends the stream it reconnects after the retry the stream advised. Besides, it fetches the open
fragment every SAFETY_POLL seconds (htmx `every 30s`) and its notices every NOTIFICATIONS_POLL seconds.
With live=False it polls instead, every POLL seconds, as the pages did before they had a stream; Django's
test server, which cannot stream, needs that.

Every request is timed from just before it is sent until its whole body is read. A request is an error
when it fails (connection refused or reset, timeout) or answers another status than the one a working
server gives: 200 for pages, 200 or 204 for polls, a redirect for form posts, 200 for webhooks.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import httpx

from smmdesk.bench.publish import quantile

POLL = 1.0
SAFETY_POLL = 30.0
NOTIFICATIONS_POLL = 60.0
# Before the stream's own advice arrives.
RETRY = 2.0
THINK = {"list": (3.0, 10.0), "read": (5.0, 20.0), "compose": (10.0, 40.0), "after": (2.0, 6.0)}
FILTERS = [
    ("", 30),
    ("department=mine", 25),
    ("assignee=me", 15),
    ("assignee=none", 10),
    ("risk=breached", 10),
    ("sentiment=negative", 5),
    ("sort=recent", 5),
]
ACTIONS = [("reply", 55), ("handoff", 15), ("assign", 15), ("resolve", 15)]
AFTER_REPLY = [("resolved", 40), ("waiting_customer", 30), ("", 30)]
PICK_FROM = 10
TIMEOUT = 30.0
PROGRESS_EVERY = 60.0
# Webhook deliveries on their way at once; beyond it the feeder falls behind (and the achieved rate shows it).
INBOUND_IN_FLIGHT = 64
REPLIES = [
    "Здравствуйте! Да, есть свободное время, записали вас. Ждём!",
    "Добрый день! Стоимость стрижки 1200 ₽, подробнее в прайсе.",
    "Приносим извинения, передали администратору, он свяжется с вами сегодня.",
    "Hello! Yes, we have a free slot tomorrow at 11:30. See you!",
]
NOTES = ["Клиентка просит перезвонить", "Please check the booking", "Нужен возврат, решите пожалуйста"]

ROW = re.compile(r'data-url="([^"]+)"')
LIST_POLL = re.compile(r'id="inbox-list"[^>]*?hx-get="([^"]+)"', re.S)
LIVE_POLL = re.compile(r'id="conversation-live"[^>]*?hx-get="([^"]+)"', re.S)
NOTICES = re.compile(r'data-notifications-url="([^"]+)"')
STREAM = re.compile(r'data-live-stream="([^"]+)"')
# A stream's event → the fetch it causes, when the page shows that part.
FETCH_ON = {"list": "updates", "conversation": "live"}
STATUS_BUTTON = re.compile(r'name="status" value="([a-z_]+)"')


def _first(pattern: re.Pattern, text: str) -> str | None:
    found = pattern.search(text)
    return html.unescape(found.group(1)) if found else None


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass
class Stats:
    """Every request's time and outcome, by action."""

    timer: Callable[[], float] = time.perf_counter
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)

    def record(self, action: str, seconds: float, error: str | None) -> None:
        self.times[action].append(seconds)
        if error:
            self.errors[(action, error)] += 1

    async def request(
        self, client: httpx.AsyncClient, action: str, method: str, url: str, expect, **options
    ) -> httpx.Response | None:
        """The response when it is the expected one, else None (and the error recorded)."""
        started = self.timer()
        try:
            response = await client.request(method, url, **options)
        except httpx.HTTPError as exc:
            self.record(action, self.timer() - started, type(exc).__name__)
            return None
        ok = response.status_code in expect
        self.record(action, self.timer() - started, None if ok else f"HTTP {response.status_code}")
        return response if ok else None

    @property
    def requests(self) -> int:
        return sum(len(times) for times in self.times.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def percentiles(self, action: str | None = None) -> tuple[float, float, float, float]:
        """(p50, p95, p99, max) in ms, of one action or of every request."""
        values = self.times[action] if action else [t for times in self.times.values() for t in times]
        ordered = sorted(values)
        if not ordered:
            return (float("nan"),) * 4
        return tuple(q * 1000 for q in (*(quantile(ordered, p) for p in (0.5, 0.95, 0.99)), ordered[-1]))

    def table(self) -> list[str]:
        lines = [
            f"{'action':<14}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        ]
        for action in sorted(self.times, key=lambda a: -len(self.times[a])):
            errors = sum(n for (a, _reason), n in self.errors.items() if a == action)
            p50, p95, p99, top = self.percentiles(action)
            lines.append(
                f"{action:<14}{len(self.times[action]):>9}{errors:>8}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{top:>9.0f}"
            )
        for (action, reason), count in sorted(self.errors.items()):
            lines.append(f"  error: {action} {reason} x{count}")
        return lines


@dataclass
class Desk:
    """What the agents know of the workspace: where it is and whom and where they may hand work to."""

    base_url: str
    slug: str
    departments: list[int]
    members: list[int]

    @property
    def inbox(self) -> str:
        return f"{self.base_url}/w/{self.slug}/inbox/"


class Agent:
    """One person at the inbox, with a browser's cookies; see the module's docstring for the round."""

    def __init__(
        self, desk: Desk, client: httpx.AsyncClient, stats: Stats, *, clock, rng, until, poll, live=True
    ):
        self.desk, self.client, self.stats = desk, client, stats
        self.clock, self.rng, self.until, self.poll = clock, rng, until, poll
        self.live = live
        self.notices_every = NOTIFICATIONS_POLL if live else 15.0
        self.notices_url: str | None = None
        self.next_notice = 0.0
        self.poll_url: str | None = None
        self.poll_action = ""
        self.statuses: set[str] = set()
        self.stream: asyncio.Task | None = None
        self.retry = RETRY

    def over(self) -> bool:
        return self.clock.now() >= self.until

    async def run(self, rounds: int | None = None, stagger: float = 0.0) -> None:
        # Agents are somewhere in their work when the run starts, not all at their first click.
        await self.clock.sleep(self.rng.uniform(0, stagger))
        self.next_notice = self.clock.now()
        done = 0
        try:
            while not self.over() and (rounds is None or done < rounds):
                await self.round()
                done += 1
        finally:
            await self.leave()

    async def get(self, action: str, url: str, expect=(200,)) -> httpx.Response | None:
        return await self.stats.request(self.client, action, "GET", url, expect)

    async def _show(self, response: httpx.Response, pattern: re.Pattern, poll_action: str) -> None:
        await self.leave()
        self.poll_url = _first(pattern, response.text)
        self.poll_action = poll_action
        self.notices_url = _first(NOTICES, response.text) or self.notices_url
        if pattern is LIVE_POLL:
            self.statuses = set(STATUS_BUTTON.findall(response.text))
        stream = _first(STREAM, response.text) if self.live else None
        if stream:
            self.stream = asyncio.create_task(self.follow(urljoin(self.desk.base_url, stream)))

    async def leave(self) -> None:
        """Close the page's stream, as leaving the page does."""
        if self.stream is not None:
            stream, self.stream = self.stream, None
            stream.cancel()
            await asyncio.gather(stream, return_exceptions=True)

    async def follow(self, url: str) -> None:
        """Hold the page's stream (EventSource): fetch on each event, reconnect when it ends. The stream
        counts as a request timed until its headers; an error status ends it, as it ends an EventSource."""
        while not self.over():
            started = self.stats.timer()
            try:
                async with self.client.stream("GET", url, headers={"Accept": "text/event-stream"}) as answer:
                    ok = answer.status_code == 200
                    self.stats.record(
                        "stream", self.stats.timer() - started, None if ok else f"HTTP {answer.status_code}"
                    )
                    if not ok:
                        return
                    event = ""
                    async for line in answer.aiter_lines():
                        if line.startswith("retry:") and line[6:].strip().isdigit():
                            self.retry = int(line[6:]) / 1000
                        elif line.startswith("event:"):
                            event = line[6:].strip()
                        elif not line and event:
                            await self.on_event(event)
                            event = ""
            except httpx.HTTPError as exc:
                self.stats.record("stream", self.stats.timer() - started, type(exc).__name__)
            await self.clock.sleep(self.retry)

    async def on_event(self, event: str) -> None:
        if event == "notice" and self.notices_url:
            await self.get("notifications", urljoin(self.desk.base_url, self.notices_url))
        elif FETCH_ON.get(event) == self.poll_action and self.poll_url:
            await self.fetch_update()

    async def fetch_update(self) -> None:
        """Fetch the open page's fragment; a changed one brings the token for the next fetch."""
        answer = await self.get(self.poll_action, urljoin(self.desk.base_url, self.poll_url), (200, 204))
        if answer is not None and answer.status_code == 200:
            pattern = LIST_POLL if self.poll_action == "updates" else LIVE_POLL
            self.poll_url = _first(pattern, answer.text) or self.poll_url

    async def think(self, kind: str) -> None:
        """Wait as a person does, while the open page fetches on its timers as the browser does."""
        low, high = THINK[kind]
        left = self.rng.uniform(low, high)
        while left > 0 and not self.over():
            step = min(left, self.poll) if self.poll else left
            await self.clock.sleep(step)
            left -= step
            if self.over():
                break
            if self.notices_url and self.clock.now() >= self.next_notice:
                self.next_notice = self.clock.now() + self.notices_every
                await self.get("notifications", urljoin(self.desk.base_url, self.notices_url))
            if self.poll and self.poll_url:
                await self.fetch_update()

    async def post(self, action: str, url: str, data: dict) -> bool:
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken") or ""}
        answer = await self.stats.request(
            self.client, action, "POST", url, (302, 303), data=data, headers=headers
        )
        if answer is None:
            return False
        page = await self.get("open", urljoin(url, answer.headers.get("location", url)))
        if page is not None:
            await self._show(page, LIVE_POLL, "live")
        return page is not None

    async def round(self) -> None:
        rng = self.rng
        query = _pick(rng, FILTERS)
        page = await self.get("list", f"{self.desk.inbox}?{query}" if query else self.desk.inbox)
        if page is None:
            await self.leave()
            self.poll_url = None
            await self.think("after")
            return
        await self._show(page, LIST_POLL, "updates")
        rows = ROW.findall(page.text)
        await self.think("list")
        if not rows or self.over():
            return
        conversation = urljoin(self.desk.base_url, html.unescape(rng.choice(rows[:PICK_FROM])))
        page = await self.get("open", conversation)
        if page is None:
            await self.leave()
            self.poll_url = None
            await self.think("after")
            return
        await self._show(page, LIVE_POLL, "live")
        await self.think("read")
        if self.over():
            return
        await self.act(conversation, _pick(rng, ACTIONS))
        await self.think("after")

    async def act(self, conversation: str, action: str) -> None:
        rng = self.rng
        if action == "reply":
            await self.think("compose")
            if self.over() or not await self.post(
                "reply", f"{conversation}reply/", {"reply-text": rng.choice(REPLIES)}
            ):
                return
            status = _pick(rng, AFTER_REPLY)
            if status and status in self.statuses:
                await self.post("status", f"{conversation}status/", {"status": status})
        elif action == "handoff" and self.desk.departments:
            data = {
                "handoff-department": rng.choice(self.desk.departments),
                "handoff-note": rng.choice(NOTES),
            }
            await self.post("handoff", f"{conversation}handoff/", data)
        elif action == "assign" and self.desk.members:
            await self.post(
                "assign", f"{conversation}assign/", {"assign-assignee": rng.choice(self.desk.members)}
            )
        elif action == "resolve" and "resolved" in self.statuses:
            await self.post("status", f"{conversation}status/", {"status": "resolved"})


@dataclass
class Hook:
    """A channel's webhook address and the secret its deliveries are signed with."""

    url: str
    secret: str


class Inbound:
    """Customers' messages through the fake network's webhook, one delivery per message, `rate` a second,
    each signed as the fake network signs (HMAC-SHA256 of the body in X-Fake-Signature). A delivery carries
    the moment it is sent as the message's date; a repeated delivery carries its original's."""

    def __init__(self, hooks: list[Hook], items: list[tuple[int, dict]], rate: float, stats: Stats, *, clock):
        self.hooks, self.items, self.rate, self.stats, self.clock = hooks, items, rate, stats, clock
        self.sent = 0
        self.accepted = 0
        self.seconds = 0.0
        self.dates: dict[str, str] = {}
        # Ids of the messages whose delivery was accepted (a repeated delivery counts once).
        self.delivered: set[str] = set()

    async def run(self, client: httpx.AsyncClient, until: float) -> None:
        started = self.clock.now()
        slots = asyncio.Semaphore(INBOUND_IN_FLIGHT)
        pending: set[asyncio.Task] = set()
        for n, (hook_index, item) in enumerate(self.items):
            due = started + n / self.rate
            # A slow server puts the feed behind its schedule; it still ends with the run.
            if due >= until or self.clock.now() >= until:
                break
            wait = due - self.clock.now()
            if wait > 0:
                await self.clock.sleep(wait)
            await slots.acquire()
            task = asyncio.create_task(self.deliver(client, self.hooks[hook_index], item, slots))
            pending.add(task)
            task.add_done_callback(pending.discard)
            self.sent += 1
        if pending:
            await asyncio.gather(*pending)
        self.seconds = max(self.clock.now() - started, 1e-9)

    async def deliver(
        self, client: httpx.AsyncClient, hook: Hook, item: dict, slots: asyncio.Semaphore
    ) -> None:
        try:
            date = self.dates.setdefault(item["id"], datetime.now(UTC).isoformat())
            body = json.dumps([{**item, "date": date}], ensure_ascii=False).encode()
            signature = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "X-Fake-Signature": signature}
            answer = await self.stats.request(
                client, "webhook", "POST", hook.url, (200,), content=body, headers=headers
            )
            if answer is not None:
                self.accepted += 1
                self.delivered.add(item["id"])
        finally:
            slots.release()


async def _report(stats: Stats, inbound: Inbound | None, seconds: float, echo) -> None:
    started = time.monotonic()
    seen = 0
    while time.monotonic() - started + PROGRESS_EVERY <= seconds:
        await asyncio.sleep(PROGRESS_EVERY)
        everything = [t for times in stats.times.values() for t in times]
        recent = sorted(everything[seen:])
        seen = len(everything)
        p95 = quantile(recent, 0.95) * 1000 if recent else float("nan")
        sent = f", {inbound.sent} messages sent" if inbound is not None else ""
        echo(
            f"  {time.monotonic() - started:4.0f} s: {stats.requests} requests, {stats.error_count} errors, "
            f"p95 of the last minute {p95:.0f} ms{sent}"
        )


def new_client(base_url: str, cookies: dict | None = None, connections: int = 1) -> httpx.AsyncClient:
    # trust_env=False: no proxy from the environment may stand between the generator and the server.
    return httpx.AsyncClient(
        base_url=base_url,
        cookies=cookies,
        timeout=TIMEOUT,
        trust_env=False,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def run(
    desk: Desk,
    sessions: list[dict],
    *,
    seconds: float,
    inbound: Inbound | None = None,
    stats: Stats | None = None,
    clock_for: Callable[[int], object] | None = None,
    rounds: int | None = None,
    live: bool = True,
    seed: int = 12,
    stagger: float | None = None,
    progress: Callable[[str], object] | None = None,
) -> Stats:
    """Run one agent per session (its cookies) and the inbound feed for `seconds`; returns the stats.

    `clock_for(i)` gives agent i its clock (now(), async sleep()); tests pass clocks of virtual time, so
    think times cost nothing. `rounds` ends each agent after that many rounds even before the time is up.
    `progress` is given a line a minute (on the wall clock; real runs only). `live=False` polls instead of
    holding streams (see the module's docstring)."""
    stats = stats or Stats()
    clock_for = clock_for or (lambda _index: RealClock())
    stagger = THINK["list"][1] if stagger is None else stagger
    # A browser keeps several connections to a server; the stream holds one of them.
    clients = [new_client(desk.base_url, cookies, connections=3 if live else 1) for cookies in sessions]
    agents = []
    for index, client in enumerate(clients):
        clock = clock_for(index)
        agent = Agent(
            desk,
            client,
            stats,
            clock=clock,
            rng=random.Random(seed + index),
            until=clock.now() + seconds,
            poll=SAFETY_POLL if live else POLL,
            live=live,
        )
        agents.append(agent.run(rounds, stagger))
    feed = None
    try:
        jobs = list(agents)
        if inbound is not None:
            feed = new_client(desk.base_url, connections=INBOUND_IN_FLIGHT)
            jobs.append(inbound.run(feed, inbound.clock.now() + seconds))
        if progress is not None:
            jobs.append(_report(stats, inbound, seconds, progress))
        await asyncio.gather(*jobs)
    finally:
        for client in clients + ([feed] if feed else []):
            await client.aclose()
    return stats
