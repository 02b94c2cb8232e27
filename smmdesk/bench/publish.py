"""`smmdesk bench publish --posts N [--workers K] [--kill-worker]`: N posts due in the same minute.

In a throwaway data dir with a fresh SQLite database and the SQLite Huey queue (the one-machine default),
the benchmark creates N scheduled posts, one variant each, spread over CHANNELS fake channels, all due at
the same moment (LEAD seconds after they are queued). Each variant gets its ETA task through the product's
own path (scheduling.enqueue). K worker processes run the product's Huey consumer (as `smmdesk worker`
does; the first one also runs the periodic sweeper). With --kill-worker one of them is SIGKILLed once a
third of the posts are out, and started again.
With --database-url and --redis-url (both) the same runs on PostgreSQL and the Redis queue, in a database
the bench creates and drops and a Redis database it empties, as `bench load` does.

The fake network keeps its posts in memory, which worker processes cannot share; here it is replaced,
inside the workers only, by the same fake with its posts in a SQLite file of the data dir
(BenchNetwork): every call of publish adds a post, even with a key seen before, as a network without
idempotency keys would, and find_published answers from the file. So the figures come from the
network's side:
- duplicates: posts beyond the first for the same idempotency key;
- lost: variants with no post on the network or not recorded as published when the run ends;
- lateness: when the network received each post, after the due time; "done" is the last one.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smmdesk.bench import BenchError, run_child, say, setup_child

CHANNELS = 20
LEAD = 20.0
THREADS = 2
# Give up waiting this long after the due time (a kill costs at most the sweeper's grace and period).
DEADLINE = 600.0
POLL = 0.25
NETWORK_FILE = "network.sqlite3"


def run_publish(
    posts: int,
    workers: int = 2,
    kill_worker: bool = False,
    echo=print,
    lead: float = LEAD,
    database_url: str | None = None,
    redis_url: str | None = None,
) -> str:
    """Run the benchmark in a child process; returns its last line. With both URLs it runs on
    PostgreSQL and the Redis queue (the scale-out setup) instead of SQLite and the SQLite queue."""
    args = ["--posts", str(int(posts)), "--workers", str(int(workers)), "--lead", str(lead)]
    if kill_worker:
        args.append("--kill-worker")
    if database_url or redis_url:
        from smmdesk.bench.load import check_urls

        if not (database_url and redis_url):
            raise BenchError("--database-url and --redis-url go together")
        check_urls(database_url, redis_url)
    return run_child("smmdesk.bench.publish", args, echo, database_url=database_url, redis_url=redis_url)


# --- the network, shared by the worker processes ------------------------------------------------------


def network_path() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / NETWORK_FILE


def network_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def create_network(path: Path) -> None:
    conn = network_db(path)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS posts (id INTEGER PRIMARY KEY, account TEXT, key TEXT, text TEXT, at REAL)"
    )
    conn.execute("CREATE INDEX IF NOT EXISTS posts_key ON posts (account, key)")
    conn.close()


def bench_adapter():
    """The fake network's adapter with its posts in the data dir's file (see the module's docstring)."""
    from smmdesk.channels.base import ExternalRef
    from smmdesk.channels.fake.adapter import FakeAdapter

    local = threading.local()
    path = network_path()

    def db() -> sqlite3.Connection:
        if getattr(local, "conn", None) is None:
            local.conn = network_db(path)
        return local.conn

    class BenchNetwork(FakeAdapter):
        idempotent_publish = False

        def _ref(self, post_id: int) -> ExternalRef:
            return ExternalRef(
                f"post{post_id}", f"https://fake.invalid/{self.config.account_id}/post{post_id}"
            )

        def publish(self, variant, idempotency_key):
            cursor = db().execute(
                "INSERT INTO posts (account, key, text, at) VALUES (?, ?, ?, ?)",
                (self.config.account_id, idempotency_key, variant.text, time.time()),
            )
            return self._ref(cursor.lastrowid)

        def find_published(self, idempotency_key):
            row = (
                db()
                .execute(
                    "SELECT id FROM posts WHERE account = ? AND key = ? ORDER BY id LIMIT 1",
                    (self.config.account_id, idempotency_key),
                )
                .fetchone()
            )
            return self._ref(row[0]) if row else None

    return BenchNetwork


def worker(threads: int, periodic: bool) -> None:
    """One worker process: the product's consumer, with the fake network's posts in the shared file."""
    import django

    django.setup()
    from smmdesk.channels import registry
    from smmdesk.cli import _consumer

    registry.ADAPTERS["fake"] = bench_adapter()
    _consumer(threads, periodic).run()


# --- the run ------------------------------------------------------------------------------------------


class Workers:
    def __init__(self, count: int, threads: int):
        self.threads = threads
        self.procs = [self._start(index) for index in range(count)]

    def _start(self, index: int) -> subprocess.Popen:
        args = [sys.executable, "-m", "smmdesk.bench.publish", "--worker", "--threads", str(self.threads)]
        if index == 0:
            args.append("--periodic")
        log = open(Path(os.environ["SMMDESK_DATA_DIR"]) / f"worker-{index}.log", "a")  # noqa: SIM115
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())

    def kill(self, index: int) -> int:
        victim = self.procs[index]
        victim.send_signal(signal.SIGKILL)
        victim.wait()  # reaped, so its claims read as a dead process's
        return victim.pid

    def restart(self, index: int) -> None:
        self.procs[index] = self._start(index)

    def kill_and_restart(self, index: int) -> int:
        pid = self.kill(index)
        self.restart(index)
        return pid

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def bench_workspace(slug: str, name: str):
    """A workspace with a business profile and its owner; (workspace, the owner's membership)."""
    from smmdesk.accounts.models import Membership, User, Workspace
    from smmdesk.accounts.roles import Role
    from smmdesk.business.models import BusinessProfile

    workspace = Workspace.objects.create(slug=slug, name=name)
    BusinessProfile.objects.create(
        workspace=workspace, name=name, city="Bratislava", timezone="Europe/Bratislava"
    )
    owner = User.objects.create_user(f"owner@{slug}.example", "bench-password-123", name="Owner")
    return workspace, Membership.objects.create(user=owner, workspace=workspace, role=Role.OWNER)


def fake_channels(workspace, count: int, prefix: str) -> list:
    """`count` working fake channels, accounts <prefix>-1, <prefix>-2, ..."""
    from smmdesk.channels import actions as channel_actions
    from smmdesk.channels.models import Channel

    channels = [
        channel_actions.create_channel(
            workspace,
            "fake",
            f"Fake {i + 1}",
            {"account_id": f"{prefix}-{i + 1}", "api_token": f"{prefix}-token-{i + 1}"},
        )
        for i in range(count)
    ]
    Channel.objects.filter(workspace=workspace).update(status=Channel.Status.OK)
    for channel in channels:
        channel.status = Channel.Status.OK
    return channels


def scheduled_posts(member, channels: list, count: int, due: datetime, hashtags=("bench",)) -> list[int]:
    """`count` approved posts due at `due`, one variant each, round the channels; the variants' ids."""
    from smmdesk.publishing.models import Post, Variant

    now = datetime.now(UTC)
    posts = Post.objects.bulk_create(
        [
            Post(
                workspace_id=member.workspace_id,
                title=f"Bench post {i + 1}",
                state=Post.State.SCHEDULED,
                scheduled_at=due,
                created_by=member,
                approved_by=member,
                approved_at=now,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    variants = Variant.objects.bulk_create(
        [
            Variant(
                post=post,
                channel=channels[i % len(channels)],
                text=f"Bench post {i + 1}: spring offer",
                hashtags=list(hashtags),
                next_attempt_at=due,
                # As scheduling through the product sets it (actions._arm): the idempotency key's time.
                occurrence=due,
            )
            for i, post in enumerate(posts)
        ],
        batch_size=1000,
    )
    return [v.pk for v in variants]


def create_posts(count: int, due: datetime) -> list[int]:
    _workspace, member = bench_workspace("bench-publish", "Bench publishing")
    channels = fake_channels(member.workspace, min(CHANNELS, count), "bench")
    return scheduled_posts(member, channels, count, due)


def counts() -> dict[str, int]:
    from django.db.models import Count

    from smmdesk.publishing.models import Variant

    return dict(Variant.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))


def measure(count: int, due: datetime) -> tuple[float, int, int, list[float]]:
    """(seconds from due to the last post, duplicates, lost, lateness of each post in ms)."""
    from smmdesk.publishing.models import Variant

    conn = network_db(network_path())
    rows = conn.execute("SELECT key, MIN(at), COUNT(*) FROM posts GROUP BY account, key").fetchall()
    last = conn.execute("SELECT MAX(at) FROM posts").fetchone()[0]
    conn.close()
    on_network = {key: (first, n) for key, first, n in rows}
    duplicates = sum(n - 1 for _first, n in on_network.values())
    lost = 0
    for variant in Variant.objects.select_related("post").only(
        "pk", "state", "occurrence", "post__scheduled_at"
    ):
        if variant.state != Variant.State.PUBLISHED or variant.idempotency_key() not in on_network:
            lost += 1
    lateness = sorted(max(0.0, (first - due.timestamp()) * 1000) for first, _n in on_network.values())
    done = (last - due.timestamp()) if last else float("nan")
    return done, duplicates, lost + max(0, count - Variant.objects.count()), lateness


def quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def run(count: int, workers: int, kill: bool, threads: int, lead: float = LEAD) -> str:
    if not os.environ.get("DATABASE_URL"):
        return _run(count, workers, kill, threads, lead)
    from smmdesk.bench.load import throwaway_stores

    # A database and queue of the bench's own, created here and dropped after (as bench load does).
    with throwaway_stores("publish"):
        return _run(count, workers, kill, threads, lead)


def _run(count: int, workers: int, kill: bool, threads: int, lead: float) -> str:
    setup_child()
    from smmdesk.publishing import scheduling
    from smmdesk.publishing.models import Variant

    create_network(network_path())
    placeholder = datetime.now(UTC) + timedelta(hours=1)
    ids = create_posts(count, placeholder)
    pool = Workers(workers, threads)
    started = time.monotonic()
    due = datetime.now(UTC) + timedelta(seconds=lead)
    from smmdesk.publishing.models import Post

    Post.objects.update(scheduled_at=due)
    Variant.objects.update(next_attempt_at=due, occurrence=due)
    scheduling.enqueue(ids, due)
    say(
        f"publish: {count} posts on {min(CHANNELS, count)} fake channels due at {due:%H:%M:%S} UTC, "
        f"queued in {time.monotonic() - started:.1f} s; {workers} workers x {threads} threads"
    )
    killed = False
    terminal = (Variant.State.PUBLISHED, Variant.State.FAILED)
    try:
        while True:
            time.sleep(POLL)
            states = counts()
            finished = sum(states.get(s, 0) for s in terminal)
            if kill and not killed and states.get(Variant.State.PUBLISHED, 0) >= count / 3:
                index = workers - 1
                pid = pool.kill_and_restart(index)
                killed = True
                say(f"publish: SIGKILLed worker {index} (pid {pid}) with {finished} posts out; restarted it")
            if finished >= count:
                break
            if datetime.now(UTC) > due + timedelta(seconds=DEADLINE):
                say(f"publish: gave up waiting, states {states}")
                break
    finally:
        pool.stop()
    states = counts()
    if states.get(Variant.State.FAILED):
        from smmdesk.publishing.models import Variant as V

        reasons = set(V.objects.filter(state=V.State.FAILED).values_list("error", flat=True)[:5])
        say(f"publish: {states[Variant.State.FAILED]} failed: {'; '.join(sorted(reasons))}")
    return result_line(count, *measure(count, due))


def result_line(count: int, done: float, duplicates: int, lost: int, lateness: list[float]) -> str:
    return (
        f"publish: {count} posts, done {done:.1f} s after due time, duplicates {duplicates}, lost {lost}, "
        f"lateness p50 {quantile(lateness, 0.5):.0f} ms p99 {quantile(lateness, 0.99):.0f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smmdesk bench publish")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--kill-worker", action="store_true")
    parser.add_argument("--lead", type=float, default=LEAD, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--periodic", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.threads, args.periodic)
        return
    if args.posts < 1 or args.workers < 1:
        parser.error("--posts and --workers must be at least 1")
    say(run(args.posts, args.workers, args.kill_worker, args.threads, args.lead))


if __name__ == "__main__":
    main()
