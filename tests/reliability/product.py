"""The product's processes inside a crash scenario's installation, and how the scenario watches them.

- `smmdesk web` and `smmdesk serve` on a free port, started as a user starts them;
- queue workers: smmdesk.bench.publish.Workers, the product's consumer as `smmdesk worker` runs it, with
  the fake network's posts kept in a file of the data dir, so every process sees the same network and a
  post made twice shows up twice (see that module);
- a command such as `smmdesk audience import`.

A scenario kills one of them with SIGKILL at a moment it has found by polling the database (or, for an
import, how far the process has read its file), then starts it again and waits, with a deadline, for
the product to finish on its own. The periodic recovery tasks run on the minute (or every five); the
scenario runs them itself once the victim is back (run_recovery).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx

POLL = 0.02
START_TIMEOUT = 60.0
WORK_TIMEOUT = 90.0
SMMDESK = str(Path(sys.executable).parent / "smmdesk")
# Past every recovery task's grace: raw events wait 2 minutes, due variants 1 minute.
SWEEP_AHEAD = timedelta(minutes=3)


class ScenarioError(Exception):
    pass


def data_dir() -> Path:
    return Path(os.environ["SMMDESK_DATA_DIR"])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_client() -> httpx.Client:
    # The product runs on loopback; no proxy from the environment may stand in between.
    return httpx.Client(timeout=10.0, trust_env=False)


def spawn(args: list[str], log_name: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    log = open(data_dir() / log_name, "a")  # noqa: SIM115 - the child keeps writing to it
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env or os.environ.copy())


def kill(process: subprocess.Popen) -> int:
    """SIGKILL, then reap: a reaped process's claims read as a dead process's (lib.workers.dead_here)."""
    process.send_signal(signal.SIGKILL)
    process.wait()
    return process.pid


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill(process)


class Web:
    """`smmdesk web` (or `serve`, web with the embedded worker) on a free port of 127.0.0.1."""

    def __init__(self, command: str = "web"):
        self.command = command
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> Web:
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self.starts += 1
        self.process = spawn([SMMDESK, self.command], f"{self.command}-{self.starts}.log", env)
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        with http_client() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ScenarioError(f"smmdesk {self.command} exited with {self.process.returncode}")
                try:
                    if client.get(f"{self.base}/healthz", timeout=1.0).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(POLL * 5)
        raise ScenarioError(f"smmdesk {self.command} did not answer within {START_TIMEOUT:.0f} s")

    def kill(self) -> int:
        return kill(self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


def _processes(watched):
    for item in watched:
        if isinstance(item, Web):
            yield item.process
        elif hasattr(item, "procs"):  # a bench Workers pool
            yield from item.procs
        else:
            yield item


def wait_until(
    condition: Callable[[], object], what: str, watched=(), timeout: float = WORK_TIMEOUT
) -> object:
    """Poll `condition` until it returns something true; ScenarioError naming `what` after the timeout,
    or at once if a watched process has died (a Popen, a Web, or a bench Workers pool: their current
    processes, so one started again is watched instead of the one killed)."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        for proc in _processes(watched):
            if proc.poll() is not None:
                raise ScenarioError(f"waiting for {what}: pid {proc.pid} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise ScenarioError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL)


def read_position(pid: int, path: Path) -> int | None:
    """How far process `pid` has read the file at `path` (its open descriptor's offset); None when it
    does not have the file open. Linux /proc."""
    target = str(path.resolve())
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in descriptors:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != target:
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                for line in info:
                    if line.startswith("pos:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            continue
    return None


def run_recovery() -> None:
    """The periodic recovery tasks, as they will run: first on their next run, which takes back at once
    what a dead process on this machine held (a variant's claim, an import); then a few minutes later,
    past their grace periods (webhook bodies wait 2 minutes, due variants 1), which queues again whatever
    lost its task. The clock moves in this process only; the queued work runs in the product's workers
    on the real clock."""
    import time_machine
    from django.utils import timezone

    from smmdesk.audience.tasks import resume_interrupted_imports
    from smmdesk.inbox.ingest_tasks import requeue_stranded_raw_events
    from smmdesk.publishing.tasks import sweep_publishing

    tasks = [requeue_stranded_raw_events, sweep_publishing, resume_interrupted_imports]
    for task in tasks:
        task.call_local()
    with time_machine.travel(timezone.now() + SWEEP_AHEAD, tick=True):
        for task in tasks:
            task.call_local()


def clear_shared_state() -> None:
    """An empty queue and cache. With Redis they are the test run's own (REDIS_URL): tasks its other tests
    left queued name rows of another database, and keys this installation's processes leave (a lease, a
    lock, an import's progress, all keyed by row ids) would reach the tests that run after it."""
    from django.core.cache import cache
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    cache.clear()
