"""Live updates of the inbox pages: one server-sent-events stream per open page (DESIGN.md: uvicorn
serves them, no second server).

How a change reaches a page:
1. Triggers in the database (migration 0005) announce every write of a conversation, message, timeline
   event, hand-off or notice, whoever makes it: a view, a worker, a bulk `.update()`, a restore. No code
   path can forget to.
   - PostgreSQL: `NOTIFY smmdesk_live` with what changed. Notices are delivered at commit, in commit
     order, and never for a transaction that rolled back.
   - SQLite: a row in `inbox_livechange`. SQLite has one writer at a time, so ids become visible in
     order and "every row after the last one read" misses nothing. (On PostgreSQL an id can become
     visible after a higher one, which is why it listens instead.)
2. Each web process has one Hub per event loop. It listens (PostgreSQL) or reads the new rows every
   POLL_SECONDS (SQLite), and wakes the streams concerned: a list page on any conversation of its
   workspace, a conversation page on its conversation, every page on its member's notices.
3. A woken stream sends an event that names what changed. The page fetches the fragment it has always
   fetched, which answers 204 when what it shows did not change. Changes within GAPS of each other go
   out as one event, so even a workspace taking in 50 messages a second costs an open list one fetch
   every 2 seconds.

A stream opens with an event for each part of its page, so that whatever changed between rendering the
page and connecting is fetched then; unless the page says when it was rendered (`since`) and the hub,
listening since before then, has seen no change to the page's keys after it (less MARGIN_SECONDS, for a
read that came before `since` and for clocks of other machines). It ends after LIFETIME_SECONDS (the
browser reconnects after RETRY_MS), so a signed-out session or a changed role takes effect within minutes.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import connections

log = logging.getLogger(__name__)

CHANNEL = "smmdesk_live"
POLL_SECONDS = 0.5
# The shortest time between two events of a kind on one stream; what changes meanwhile goes out as one
# event after it. A list is re-rendered whole for each fetch, and a busy workspace changes it many times a
# second; notices were fetched every 15 s before the stream, and one every 10 s is still sooner.
GAPS = {"conversation": 1.0, "list": 2.0, "notice": 10.0}
KEEPALIVE_SECONDS = 20.0
LIFETIME_SECONDS = 300.0
RETRY_MS = 2000
RECONNECT_SECONDS = 2.0
MARGIN_SECONDS = 2.0
# How long the hub remembers when a key last changed, for streams that connect after the change.
REMEMBER_SECONDS = 30.0
READ_AT_MOST = 5000
# What a page is told, by the kind of key that changed.
EVENTS = {"w": "list", "c": "conversation", "m": "notice"}

Key = tuple[str, int]


def keys_of(payload: str) -> list[Key]:
    """'w3 c17' → [("w", 3), ("c", 17)]; a word that is not a kind and a number is skipped."""
    keys = []
    for word in payload.split():
        kind, number = word[:1], word[1:]
        if kind in EVENTS and number.isdigit():
            keys.append((kind, int(number)))
    return keys


@dataclass(eq=False)
class Subscription:
    keys: frozenset[Key]
    pending: set[str] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self, event: str) -> None:
        self.pending.add(event)
        self.ready.set()

    def take(self) -> list[str]:
        events = sorted(self.pending)
        self.pending.clear()
        self.ready.clear()
        return events


class Hub:
    """The streams of one event loop and the one source of changes that wakes them."""

    def __init__(self, source_factory: Callable[[Hub], Source] | None = None, *, start: bool = True):
        self.by_key: dict[Key, set[Subscription]] = defaultdict(set)
        self.source = (source_factory or source_for_database)(self)
        # start=False: a test steps the source itself.
        self.start = start
        self.task: asyncio.Task | None = None
        # Wall-clock times (they are compared with a page's, maybe from another process): since when the
        # source has missed nothing, and when each key last changed.
        self.complete_since: float | None = None
        self.last_changed: dict[Key, float] = {}
        self.forget_at = 0.0

    def subscribe(self, keys: Iterable[Key]) -> Subscription:
        subscription = Subscription(frozenset(keys))
        for key in subscription.keys:
            self.by_key[key].add(subscription)
        if self.start and (self.task is None or self.task.done()):
            self.task = asyncio.get_running_loop().create_task(self.source.run())
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for key in subscription.keys:
            subscriptions = self.by_key.get(key)
            if subscriptions is not None:
                subscriptions.discard(subscription)
                if not subscriptions:
                    del self.by_key[key]

    @property
    def listening(self) -> bool:
        return bool(self.by_key)

    def changed(self, keys: Iterable[Key]) -> None:
        now = time.time()
        for key in keys:
            self.last_changed[key] = now
            for subscription in self.by_key.get(key, ()):
                subscription.wake(EVENTS[key[0]])
        if now >= self.forget_at:
            self.forget_at = now + REMEMBER_SECONDS
            self.last_changed = {k: t for k, t in self.last_changed.items() if t > now - REMEMBER_SECONDS}

    def caught_up(self) -> None:
        """The source reads (or listens) again from now on; any list or conversation may have changed
        meanwhile. Notices are left out: a page fetches them as it loads and every minute, and an event
        now would hold back the next, real one for its gap."""
        self.complete_since = time.time()
        self.changed([key for key in self.by_key if key[0] != "m"])

    def lost(self) -> None:
        self.complete_since = None

    def may_have_missed(self, keys: Iterable[Key], since: float | None) -> bool:
        """Could a page rendered at `since` miss a change to `keys`? True unless this hub knows it did not."""
        if since is None or self.complete_since is None:
            return True
        after = since - MARGIN_SECONDS
        return self.complete_since > after or any(self.last_changed.get(key, 0.0) > after for key in keys)

    async def close(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        await self.source.close()


class Source:
    def __init__(self, hub: Hub):
        self.hub = hub

    async def run(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class SqliteSource(Source):
    """Reads the rows the triggers added, in one indexed query per POLL_SECONDS, while anyone listens.

    The query runs on a thread of its own, so the process keeps one connection for it."""

    def __init__(self, hub: Hub, interval: float = POLL_SECONDS):
        super().__init__(hub)
        self.interval = interval
        self.last: int | None = None
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="smmdesk-live")

    def read(self, after: int | None) -> tuple[int, list[list[Key]]]:
        connection = connections["default"]
        connection.close_if_unusable_or_obsolete()
        try:
            with connection.cursor() as cursor:
                if after is None:
                    cursor.execute("SELECT coalesce(max(id), 0) FROM inbox_livechange")
                    return cursor.fetchone()[0], []
                cursor.execute(
                    "SELECT id, workspace_id, conversation_id, membership_id FROM inbox_livechange "
                    "WHERE id > %s ORDER BY id LIMIT %s",
                    [after, READ_AT_MOST],
                )
                rows = cursor.fetchall()
        except Exception:
            connection.close()
            raise
        changes = [
            [(kind, value) for kind, value in zip("wcm", row[1:], strict=True) if value is not None]
            for row in rows
        ]
        return (rows[-1][0] if rows else after), changes

    async def step(self) -> None:
        loop = asyncio.get_running_loop()
        started = self.last is None
        self.last, changes = await loop.run_in_executor(self.executor, self.read, self.last)
        for keys in changes:
            self.hub.changed(keys)
        if started:
            # Rows written before this first read were never looked at.
            self.hub.caught_up()

    async def run(self) -> None:
        try:
            while self.hub.listening:
                try:
                    await self.step()
                except Exception:
                    log.warning("live updates: could not read the changes; trying again", exc_info=True)
                    self.last = None
                    self.hub.lost()
                await asyncio.sleep(self.interval)
        finally:
            # Nobody listens: the next reader starts from the rows written by then.
            self.last = None
            self.hub.lost()

    async def close(self) -> None:
        self.executor.shutdown(wait=False)


class PostgresSource(Source):
    """LISTENs on a connection of its own (not the pool's: it stays open as long as anyone listens)."""

    def __init__(self, hub: Hub, conninfo: str):
        super().__init__(hub)
        self.conninfo = conninfo
        self.connection = None

    async def run(self) -> None:
        import psycopg

        while self.hub.listening:
            try:
                self.connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                await self.connection.execute(f"LISTEN {CHANNEL}")
                # Whatever was written before LISTEN took hold (or while the connection was lost).
                self.hub.caught_up()
                while self.hub.listening:
                    async for note in self.connection.notifies(timeout=KEEPALIVE_SECONDS):
                        self.hub.changed(keys_of(note.payload))
            except psycopg.Error:
                log.warning("live updates: lost the database connection; reconnecting", exc_info=True)
                self.hub.lost()
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                self.hub.lost()
                await self.close()

    async def close(self) -> None:
        if self.connection is not None:
            connection, self.connection = self.connection, None
            await connection.close()


def postgres_conninfo(connection) -> str:
    """libpq's connection string for a Django PostgreSQL connection: Django's own parameters, less the
    ones it hands to psycopg as Python objects."""
    from psycopg.conninfo import make_conninfo

    params = connection.get_connection_params()
    for python_side in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(python_side, None)
    return make_conninfo("", **params)


def source_for_database(hub: Hub) -> Source:
    connection = connections["default"]
    if connection.vendor == "postgresql":
        return PostgresSource(hub, postgres_conninfo(connection))
    return SqliteSource(hub)


_hubs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """This event loop's hub (uvicorn runs one loop per process; tests may run several)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]


def _event(name: str) -> str:
    return f"event: {name}\ndata: \n\n"


async def events(
    keys: Iterable[Key],
    since: float | None = None,
    *,
    hub_for: Callable[[], Hub] | None = None,
    gaps: dict[str, float] | None = None,
    keepalive: float | None = None,
    lifetime: float | None = None,
    clock: Callable[[], float] | None = None,
):
    """The text of one page's stream. The timings default to this module's settings when it starts;
    `clock` (the event loop's by default) lets a test move time."""
    keys = list(keys)
    gaps = GAPS if gaps is None else gaps
    keepalive = KEEPALIVE_SECONDS if keepalive is None else keepalive
    lifetime = LIFETIME_SECONDS if lifetime is None else lifetime
    hub_now = (hub_for or hub)()
    subscription = hub_now.subscribe(keys)
    clock = clock or asyncio.get_running_loop().time
    started = clock()
    ends, spoke = started + lifetime, started
    held: set[str] = set()
    allowed_at: dict[str, float] = {}
    try:
        missed = hub_now.may_have_missed(keys, since)
        parts = sorted({kind for kind, _ in keys} - {"m"}) if missed else []
        for event in (EVENTS[kind] for kind in parts):
            allowed_at[event] = started + gaps.get(event, 0.0)
        yield f"retry: {RETRY_MS}\n\n" + "".join(_event(EVENTS[kind]) for kind in parts)
        while (now := clock()) < ends:
            wake_at = min([spoke + keepalive, ends, *(allowed_at.get(event, now) for event in held)])
            try:
                await asyncio.wait_for(subscription.ready.wait(), max(0.0, wake_at - now))
                held.update(subscription.take())
            except TimeoutError:
                pass
            now = clock()
            due = sorted(event for event in held if allowed_at.get(event, now) <= now)
            if due:
                held.difference_update(due)
                allowed_at.update((event, now + gaps.get(event, 0.0)) for event in due)
                spoke = now
                yield "".join(_event(event) for event in due)
            elif now >= spoke + keepalive:
                spoke = now
                # A comment line: keeps proxies from closing an idle connection.
                yield ": waiting\n\n"
    finally:
        hub_now.unsubscribe(subscription)
