"""`smmdesk bench load`: agents working the inbox while messages pour in, against the real processes.

In a child process with a throwaway data dir (see smmdesk.bench):
1. The PostgreSQL database named by --database-url is created for the run (and dropped after it). One
   that exists already is only taken if it is the bench's own (marked by a comment on the database) or
   has no tables; anything else is refused. The Redis database must be empty or the bench's own (a
   marker key); it is emptied after the run.
2. Migrate; the Orenburg demo business (departments, SLA policy with after-hours acknowledgements,
   routing rules, canned replies) with two more fake channels, webhook secrets on all four, and N agents
   (one in ten an SMM manager, the others agents), spread over the departments; then a history of
   --history messages (bench inbox's filler: a year of conversations, a few thousand still open).
3. The real processes, as an operator starts them: `smmdesk web --workers W` on a free port on 127.0.0.1
   and K `smmdesk worker` processes against Redis, only the first with periodic tasks.
4. Signed-in agents: one through the login form, to show that path works; the others get the same kind
   of session directly, because 200 form logins would cost 200 deliberately slow password hashes
   (about 0.5 s of CPU each here), which measures the hasher, not the inbox.
5. The load (smmdesk.bench.loadgen, whose docstring has the agents' mix and think times) for the given
   minutes, with inbound messages (smmdesk.bench.data's mix) posted to the channels' webhooks at --rate.
6. The backlog when the load stops: webhook deliveries stored but not yet ingested; then how long the
   workers take to clear it, and whether every message was ingested once.
The last line is the summary; the table before it has each action's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from smmdesk.bench import BenchError, run_child, say, setup_child

MARKER = "smmdesk bench load: a throwaway database, dropped after the run"
REDIS_MARKER = "smmdesk:bench-load"
PASSWORD = "bench-load-password-7"
EMAIL = "agent{:03d}@bench-load.example"
MANAGER_EVERY = 10
EXTRA_CHANNELS = [
    ("Fake: Instagram", "bench-load-ig", "other"),
    ("Fake: Mastodon", "bench-load-md", "mastodon"),
]
HISTORY = 100_000
WORKER_THREADS = 4
START_TIMEOUT = 120.0
# A logged exception's last line: "package.module.SomeError: message".
EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Timeout|Exit)\b:? .*")
DRAIN_TIMEOUT = 300.0


def check_urls(database_url: str, redis_url: str) -> None:
    database = urlsplit(database_url)
    if database.scheme not in ("postgresql", "postgres", "pgsql") or not database.path.strip("/"):
        raise BenchError(
            "--database-url: must be postgresql://user@host:port/name (a throwaway database name)"
        )
    if urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise BenchError("--redis-url: must be redis://host:port/db")


def run_load(
    agents: int,
    minutes: float,
    rate: float,
    web_workers: int,
    workers: int,
    database_url: str,
    redis_url: str,
    history: int = HISTORY,
    keep: bool = False,
    poll: bool = False,
    echo=print,
) -> str:
    """Run the benchmark in a child process; returns its last line."""
    check_urls(database_url, redis_url)
    args = ["--agents", str(agents), "--minutes", str(minutes), "--rate", str(rate)]
    args += ["--web-workers", str(web_workers), "--workers", str(workers), "--history", str(history)]
    args += ["--keep"] * keep + ["--poll"] * poll
    return run_child("smmdesk.bench.load", args, echo, database_url=database_url, redis_url=redis_url)


# --- the throwaway database and queue ------------------------------------------------------------


def _server_url(url: str) -> tuple[str, str]:
    """(the URL of the server's maintenance database, the database's name)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres")), parts.path.strip("/")


def prepare_database(url: str, echo=say, bench: str = "load") -> None:
    import psycopg
    from psycopg import sql

    server, name = _server_url(url)
    with psycopg.connect(server, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is not None and row[0] != MARKER:
            with psycopg.connect(urlunsplit(urlsplit(url)._replace(scheme="postgresql"))) as existing:
                tables = existing.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                ).fetchone()[0]
            if tables:
                raise SystemExit(
                    f"--database-url: database {name!r} has {tables} tables and is not the bench's own; "
                    "name one that does not exist (the bench creates and drops it)"
                )
        if row is not None:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(MARKER))
        )
    echo(f"{bench}: created the throwaway database {name}")


def drop_database(url: str) -> None:
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    server, name = _server_url(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def prepare_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = client.dbsize()
    if keys and not client.exists(REDIS_MARKER):
        raise SystemExit(f"--redis-url: that Redis database holds {keys} keys; give the bench an empty one")
    client.flushdb()
    client.set(REDIS_MARKER, "1")


def empty_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


@contextmanager
def throwaway_stores(bench: str, keep: bool = False):
    """The database and Redis database of DATABASE_URL and REDIS_URL, made ready for a bench and,
    unless `keep`, dropped and emptied when it ends, whatever way it ends."""
    database_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    # Redis first: refused, it leaves nothing behind, where a database created first would stay.
    prepare_redis(redis_url)
    prepare_database(database_url, bench=bench)
    try:
        yield
    finally:
        if not keep:
            drop_database(database_url)
            empty_redis(redis_url)


# --- the workspace -------------------------------------------------------------------------------


def build_workspace(agents: int, echo=say):
    """The demo salon with four fake channels and `agents` people; returns (workspace, users, channels)."""
    from django.contrib.auth.hashers import make_password

    from smmdesk.accounts.models import Membership, User
    from smmdesk.accounts.roles import Role
    from smmdesk.bench.ingest import SECRET, prepare_channels
    from smmdesk.business.models import Department
    from smmdesk.channels.fake.adapter import FakeConfig
    from smmdesk.channels.models import Channel
    from smmdesk.core import demo, demo_inbox

    workspace, _cast = demo.load_workspace(demo.WORKSPACES[0])
    demo_inbox.load(workspace)
    for name, account_id, stands_for in EXTRA_CHANNELS:
        channel = Channel(workspace=workspace, kind="fake", name=name)
        channel.store_config(
            FakeConfig(account_id=account_id, stands_for=stands_for, api_token="bench-token")
        )
        channel.save()
    channels = prepare_channels(workspace)
    Channel.objects.filter(workspace=workspace).update(status=Channel.Status.OK)
    # One hash for everyone: each make_password is half a second of CPU by design.
    password = make_password(PASSWORD)
    users = User.objects.bulk_create(
        [User(email=EMAIL.format(i + 1), name=f"Agent {i + 1:03d}", password=password) for i in range(agents)]
    )
    members = Membership.objects.bulk_create(
        [
            Membership(
                user=user,
                workspace=workspace,
                role=Role.SMM_MANAGER if (i + 1) % MANAGER_EVERY == 0 else Role.AGENT,
            )
            for i, user in enumerate(users)
        ]
    )
    departments = list(Department.objects.filter(workspace=workspace).order_by("pk"))
    through = Department.members.through
    through.objects.bulk_create(
        [
            through(department_id=departments[i % len(departments)].pk, membership_id=member.pk)
            for i, member in enumerate(members)
        ]
    )
    echo(
        f"load: workspace {workspace.slug}: {len(channels)} fake channels, {len(departments)} departments, "
        f"{agents} agents ({agents // MANAGER_EVERY} of them SMM managers)"
    )
    return workspace, users, [(channel, SECRET) for channel in channels]


def sessions_for(users) -> list[dict]:
    """A signed-in session per user, as django.contrib.auth.login stores it; cookies for each agent."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    cookies = []
    for user in users:
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        cookies.append({settings.SESSION_COOKIE_NAME: store.session_key})
    return cookies


def check_form_login(base_url: str, email: str, inbox: str) -> str:
    import httpx

    with httpx.Client(base_url=base_url, trust_env=False, timeout=30) as client:
        client.get("/accounts/login/").raise_for_status()
        started = time.perf_counter()
        answer = client.post(
            "/accounts/login/",
            data={
                "email": email,
                "password": PASSWORD,
                "csrfmiddlewaretoken": client.cookies.get("csrftoken"),
            },
        )
        took = (time.perf_counter() - started) * 1000
        if answer.status_code != 302 or client.get(inbox).status_code != 200:
            raise SystemExit(f"load: the login form did not sign {email} in (HTTP {answer.status_code})")
    return f"load: the login form signs {email} in ({took:.0f} ms, the password hash included)"


# --- the processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its living descendants (uvicorn's workers are its children)."""
    tree, total, stack = _children(), 0, [pid]
    while stack:
        current = stack.pop()
        total += _cpu_ticks(current)
        stack += tree.get(current, [])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (every process, other users' included)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Servers:
    """`smmdesk web` and the `smmdesk worker` processes, with their output in the data dir."""

    def __init__(self, port: int, web_workers: int, workers: int):
        self.port = port
        self.logs = Path(os.environ["SMMDESK_DATA_DIR"])
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port)}
        self.procs = {"web": self._start("web", ["web", "--workers", str(web_workers)], env)}
        for index in range(workers):
            periodic = "--periodic" if index == 0 else "--no-periodic"
            command = ["worker", "--workers", str(WORKER_THREADS), periodic]
            self.procs[f"worker {index + 1}"] = self._start(f"worker-{index + 1}", command, env)

    def _start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("w")
        return subprocess.Popen(
            [sys.executable, "-m", "smmdesk.cli", *command], stdout=log, stderr=subprocess.STDOUT, env=env
        )

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.logs / f"{name.replace(' ', '-')}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def failures(self, most: int = 6) -> list[str]:
        """The exceptions the processes logged, most frequent first: what the errors were."""
        counts: dict[str, int] = {}
        for name in self.procs:
            path = self.logs / f"{name.replace(' ', '-')}.log"
            for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
                found = EXCEPTION.match(line)
                if found:
                    key = f"{name}: {found.group(0)[:160]}"
                    counts[key] = counts.get(key, 0) + 1
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:most]
        return [f"  logged x{count}: {text}" for text, count in ranked]

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise SystemExit(f"load: {name} exited with {proc.returncode}:\n{self.tail(name)}")

    def wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{self.port}/healthz", trust_env=False, timeout=2).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"load: the web server did not answer /healthz in {START_TIMEOUT:.0f} s")

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(proc.pid) for name, proc in self.procs.items()}

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- the run -------------------------------------------------------------------------------------


def inbound_items(channels: int, count: int) -> list[tuple[int, dict]]:
    """`count` deliveries of the demo salon's traffic (repeats included), taking the channels in turn."""
    from smmdesk.bench import data

    traffic = data.generate(count, [str(i) for i in range(channels)])
    per_channel = [[(int(key), item) for item in items] for key, items in traffic.items.items()]
    mixed = [item for group in itertools.zip_longest(*per_channel) for item in group if item is not None]
    return mixed[:count]


def backlog() -> int:
    from smmdesk.inbox.models import RawEvent

    return RawEvent.objects.filter(processed_at__isnull=True).count()


def drain(delivered: int, echo=say) -> None:
    """Wait for the workers to ingest what was received; say how long it took and whether each message
    whose delivery was accepted is in the inbox exactly once (`delivered` distinct ones)."""
    from huey.contrib.djhuey import HUEY

    from smmdesk.inbox.models import Message, RawEvent

    started = time.monotonic()
    left = backlog()
    while left and time.monotonic() - started < DRAIN_TIMEOUT:
        time.sleep(1)
        left = backlog()
    failed = RawEvent.objects.exclude(error="").count()
    unique = Message.objects.filter(
        direction=Message.Direction.IN, external_id__regex=r"^[0-9]+-m[0-9]+$"
    ).count()
    state = "drained" if not left else f"{left} still waiting"
    echo(
        f"load: backlog {state} {time.monotonic() - started:.0f} s after the load stopped; "
        f"{unique} of the {delivered} distinct messages delivered are in the inbox, "
        f"{failed} deliveries refused by the worker, {HUEY.pending_count()} tasks still queued"
    )


def summary_line(agents: int, minutes: float, stats, inbound: int, rate: float, left: int) -> str:
    p50, p95, p99, _top = stats.percentiles()
    return (
        f"load: {agents} agents, {minutes:g} min, {stats.requests} requests, errors {stats.error_count}, "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, inbound {inbound} msg at {rate:.1f}/s, "
        f"backlog at end {left}"
    )


def _generate(desk, cookies, seconds: float, inbound, live: bool):
    from smmdesk.bench import loadgen

    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # the generator runs on the default loop, a little slower
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(
            loadgen.run(desk, cookies, seconds=seconds, inbound=inbound, progress=say, live=live)
        )


def run(args) -> str:
    with throwaway_stores("load", keep=args.keep):
        return _run(args)


def _run(args) -> str:
    from smmdesk.bench import loadgen

    servers = None
    try:
        setup_child()
        from smmdesk.bench.inbox import fill
        from smmdesk.business.models import Department

        workspace, users, channels = build_workspace(args.agents)
        if args.history:
            fill(workspace, args.history)
        cookies = sessions_for(users)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        servers = Servers(port, args.web_workers, args.workers)
        servers.wait_ready()
        say(
            f"load: smmdesk web --workers {args.web_workers} on {base_url}; {args.workers} workers x {WORKER_THREADS} threads"
        )
        desk = loadgen.Desk(
            base_url=base_url,
            slug=workspace.slug,
            departments=list(Department.objects.filter(workspace=workspace).values_list("pk", flat=True)),
            members=list(workspace.memberships.filter(user__in=users).values_list("pk", flat=True)),
        )
        say(check_form_login(base_url, users[0].email, desk.inbox))
        seconds = args.minutes * 60
        hooks = [loadgen.Hook(f"{base_url}/hooks/{channel.pk}/", secret) for channel, secret in channels]
        items = inbound_items(len(hooks), int(args.rate * seconds) + 1)
        inbound = loadgen.Inbound(hooks, items, args.rate, loadgen.Stats(), clock=loadgen.RealClock())
        cpu_before, busy_before, started = servers.cpu(), machine_busy(), time.monotonic()
        me_before = _cpu_ticks(os.getpid())
        pages = "poll every second, as before their stream" if args.poll else "hold their live stream"
        say(
            f"load: {args.agents} agents for {args.minutes:g} min, inbound {args.rate:g} msg/s; pages {pages}"
        )
        stats = _generate(desk, cookies, seconds, inbound, live=not args.poll)
        wall = time.monotonic() - started
        left = backlog()
        servers.check_alive()
        cpu = {name: used - cpu_before[name] for name, used in servers.cpu().items()}
        # This process alone: the servers are its children.
        cpu["generator"] = (_cpu_ticks(os.getpid()) - me_before) / os.sysconf("SC_CLK_TCK")
        cpu["whole machine"] = machine_busy() - busy_before
        say(
            "load: CPU used, in cores: "
            + ", ".join(f"{name} {used / wall:.2f}" for name, used in cpu.items())
        )
        # The webhooks' figures join the agents' in one table.
        for action, times in inbound.stats.times.items():
            stats.times[action] += times
        stats.errors.update(inbound.stats.errors)
        for line in stats.table() + servers.failures():
            say(line)
        drain(len(inbound.delivered))
        return summary_line(
            args.agents, args.minutes, stats, inbound.accepted, inbound.accepted / inbound.seconds, left
        )
    finally:
        # Before the database is dropped: the servers hold connections to it.
        if servers is not None:
            servers.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smmdesk bench load")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--history", type=int, default=HISTORY)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--poll", action="store_true")
    args = parser.parse_args(argv)
    if min(args.agents, args.web_workers, args.workers) < 1 or args.minutes <= 0 or args.rate <= 0:
        parser.error("--agents, --web-workers and --workers must be at least 1; --minutes and --rate above 0")
    say(run(args))


if __name__ == "__main__":
    main()
