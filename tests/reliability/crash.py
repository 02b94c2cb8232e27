"""Crash scenarios: `python -m tests.reliability.crash SCENARIO`, run by test_crash.py in a throwaway
installation (sandbox.py). Progress goes to stderr; the last line on stdout is the result: for each kill,
counts taken from the database and the fake network once the product had finished, which the test
compares with what was sent.

Each scenario kills one process at a time, and checks the product has made everything whole before the
next kill (sharing one installation and one set of processes saves their start-up, which dominates):

- ingest: signed webhook bodies posted to `smmdesk web`, stored, queued, and taken into the inbox by a
  worker. "worker": the first half of the bodies; the worker is killed once a quarter of their messages
  are in. "web": the second half; the web process is killed once a third of those bodies are stored,
  while the senders are still posting. Senders post again every body that got no 200, as networks do.
- publish: the fake network's posts. "worker": posts due now, the worker killed once a quarter are out.
  "web": an API client schedules approved posts for now while the worker publishes them; the web
  process is killed once a third are scheduled.
- import: a CSV of orders, each time into its own workspace, killed with between a quarter and all of
  the file read. "worker": imported by a worker. "web": by `smmdesk serve`, the web process with its
  embedded worker. "command": by `smmdesk audience import`, which is then run again.

After a kill the victim is started again, the periodic recovery tasks run (product.run_recovery), and
the scenario waits, with a deadline, until the work is finished or stops moving.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from tests.reliability.product import (
    SMMDESK,
    ScenarioError,
    Web,
    clear_shared_state,
    data_dir,
    http_client,
    kill,
    read_position,
    run_recovery,
    spawn,
    wait_until,
)

MESSAGES = 400  # over both halves of the ingestion scenario
EVENTS_PER_BODY = 10
SENDERS = 3
# Seconds each sender waits before each body. Unpaced, a warm worker (which takes a channel's waiting
# bodies in one transaction) or the web stored a whole half before the first look, so no kill was mid-work.
PACE = 0.2
POSTS = 80  # per kill
ROWS = 30_000  # per import
SETTLE_TIMEOUT = 90.0
STARTED = time.monotonic()


def say(line: str) -> None:
    print(f"{time.monotonic() - STARTED:6.1f} s  {line}", file=sys.stderr, flush=True)


def demo_workspace(slug: str = "demo-orenburg"):
    """The demo hairdresser's workspace (profile, services, fake channels), under `slug`."""
    from smmdesk.core import demo

    spec = dict(demo.WORKSPACES[0], slug=slug)
    workspace, users = demo.load_workspace(spec)
    return workspace, users, spec


def settle(done, what: str, watched=()) -> bool:
    """Wait for the product to finish; False (not an error) if it does not: the counts then tell why."""
    try:
        wait_until(done, what, watched, timeout=SETTLE_TIMEOUT)
    except ScenarioError as exc:
        say(str(exc))
        return False
    return True


def kill_when(count, at_least: int, total: int, what: str, watched) -> int:
    """Wait until count() >= at_least; refuse to go on if all `total` were done already (the kill would
    not be mid-work). Returns the count."""
    found = wait_until(lambda: (n := count()) >= at_least and n, what, watched)
    if found >= total:
        raise ScenarioError(f"{what}: all {total} were done before the kill; it was not mid-work")
    return found


# --- ingestion ----------------------------------------------------------------------------------------


class Sender:
    """Posts webhook bodies to the web process from SENDERS threads; remembers each one's last answer
    (None: no answer, the connection failed or timed out)."""

    def __init__(self, web: Web, bodies):
        self.web, self.bodies = web, bodies
        self.answers: dict[int, int | None] = {}
        self.seen: Counter = Counter()
        self._lock = threading.Lock()

    def post(self, index: int, client) -> None:
        _at, channel_id, body, headers = self.bodies[index]
        try:
            url = f"{self.web.base}/hooks/{channel_id}/"
            answer = client.post(url, content=body, headers=headers).status_code
        except Exception:  # noqa: BLE001 - any failure to get an answer is "no answer"
            answer = None
        with self._lock:
            self.answers[index] = answer
            self.seen[str(answer)] += 1

    def send(self, indexes, pace: float = 0.0) -> None:
        indexes = list(indexes)

        def post(index):
            if pace:
                time.sleep(pace)
            self.post(index, client)

        with http_client() as client, ThreadPoolExecutor(SENDERS) as pool:
            list(pool.map(post, indexes))

    def unanswered(self, indexes) -> list[int]:
        return [index for index in indexes if self.answers.get(index) != 200]

    def send_until_answered(self, indexes, rounds: int = 3) -> None:
        for _round in range(rounds):
            missing = self.unanswered(indexes)
            if not missing:
                return
            self.send(missing)


def ingest() -> dict:
    from smmdesk.bench import data
    from smmdesk.bench.ingest import prepare_channels, signed_bodies
    from smmdesk.bench.publish import THREADS, Workers
    from smmdesk.inbox.models import Message, RawEvent

    workspace, _users, _spec = demo_workspace()
    channels = prepare_channels(workspace)
    traffic = data.generate(MESSAGES, [str(channel.pk) for channel in channels])
    bodies = signed_bodies(traffic, channels, page=EVENTS_PER_BODY)
    halves = {"worker": range(len(bodies) // 2), "web": range(len(bodies) // 2, len(bodies))}
    messages = Message.objects.filter(channel__in=channels, direction=Message.Direction.IN)
    raw_events = RawEvent.objects.filter(channel__in=channels)
    unprocessed = raw_events.filter(processed_at__isnull=True)
    say(f"ingest: {traffic.messages} messages (+{traffic.duplicates} repeated) in {len(bodies)} bodies")

    def ids(indexes) -> set[str]:
        return {item["id"] for index in indexes for item in json.loads(bodies[index][2])}

    sent: set[str] = set()
    # The worker boots (and loads its language models on the first message) while the web starts.
    pool = Workers(1, THREADS)
    web = Web()
    sender = Sender(web, bodies)
    result = {}
    try:
        web.start()
        for victim, indexes in halves.items():
            expected = ids(indexes)
            sent |= expected
            at_kill = {}
            if victim == "worker":
                # A first body warms the worker up (its language models load on the first message); the
                # rest arrive paced while it works, and the kill comes a quarter of the way through.
                first = ids(indexes[:1])
                sender.send(indexes[:1])
                wait_until(
                    lambda: messages.filter(external_id__in=first).count() == len(first),
                    "the worker warm",
                    [pool],
                )
                posting = threading.Thread(target=sender.send, args=(indexes[1:], PACE))
                posting.start()
                at_kill["messages"] = kill_when(
                    lambda: messages.filter(external_id__in=expected).count(),
                    len(expected) // 4,
                    len(expected),
                    "a quarter of the messages stored",
                    [pool],
                )
                say(f"ingest: SIGKILL worker pid {pool.kill_and_restart(0)}, {at_kill['messages']} stored")
                posting.join()
            else:
                before = raw_events.count()
                posting = threading.Thread(target=sender.send, args=(indexes, PACE))
                posting.start()
                at_kill["bodies"] = kill_when(
                    lambda: raw_events.count() - before, len(indexes) // 3, len(indexes), "bodies", [web]
                )
                say(f"ingest: SIGKILL web pid {web.kill()} with {at_kill['bodies']} bodies stored")
                posting.join()
                at_kill["unanswered"] = len(sender.unanswered(indexes))
                web.start()
            sender.send_until_answered(indexes)
            run_recovery()
            settle(
                lambda: not unprocessed.exists() and messages.count() >= len(sent),
                "every body processed",
                [pool, web],
            )
            stored = list(messages.values_list("external_id", flat=True))
            result[victim] = {
                "sent": len(sent),
                "bodies": len(indexes),
                "at_kill": at_kill,
                "unanswered": len(sender.unanswered(indexes)),
                "stored": len(stored),
                "distinct": len(set(stored)),
                "missing": len(sent - set(stored)),
                "unexpected": len(set(stored) - sent),
                "raw_unprocessed": unprocessed.count(),
                "raw_refused": raw_events.exclude(error="").count(),
            }
            say(f"ingest: after the {victim} kill {result[victim]}")
    finally:
        web.stop()
        pool.stop()
    result["answers"] = dict(sender.seen)
    return result


# --- publishing ---------------------------------------------------------------------------------------


def network_counts(variant_ids: list[int]) -> dict:
    """What the fake network holds for these variants, and their states in the database."""
    from smmdesk.bench import publish as bench
    from smmdesk.publishing.models import Variant

    conn = bench.network_db(bench.network_path())
    keys = [key for (key,) in conn.execute("SELECT key FROM posts")]
    conn.close()
    # Keys are variant-<id>-<time> (Variant.idempotency_key).
    posts = Counter(int(key.split("-")[1]) for key in keys)
    states = dict(Variant.objects.filter(pk__in=variant_ids).values_list("pk", "state"))
    published = {pk for pk, state in states.items() if state == Variant.State.PUBLISHED}
    return {
        "posts": len(variant_ids),
        "published": len(published),
        "failed": sum(1 for state in states.values() if state == Variant.State.FAILED),
        "on_network": sum(posts[pk] for pk in variant_ids),
        "distinct_on_network": sum(1 for pk in variant_ids if posts[pk]),
        "lost": sum(1 for pk in variant_ids if pk not in published or not posts[pk]),
    }


def publish() -> dict:
    from django.utils import timezone

    from smmdesk.bench import publish as bench
    from smmdesk.publishing import scheduling
    from smmdesk.publishing.models import Post, Variant

    bench.create_network(bench.network_path())
    ids = bench.create_posts(2 * POSTS, timezone.now() + timedelta(hours=1))
    # Approved, waiting to be scheduled; the worker's half is made due below, the API client's later.
    Post.objects.update(state=Post.State.APPROVED, scheduled_at=None)
    Variant.objects.update(next_attempt_at=None)
    halves = {"worker": ids[:POSTS], "web": ids[POSTS:]}
    pool = bench.Workers(1, bench.THREADS)
    web = Web()
    result = {}
    try:
        for victim, variant_ids in halves.items():
            variants = Variant.objects.filter(pk__in=variant_ids)
            published = variants.filter(state=Variant.State.PUBLISHED)
            due = timezone.now()
            at_kill = {}
            answers: dict[int, int | None] = {}
            if victim == "worker":
                posts = Post.objects.filter(variants__in=variant_ids)
                posts.update(state=Post.State.SCHEDULED, scheduled_at=due)
                variants.update(next_attempt_at=due, occurrence=due)
                scheduling.enqueue(variant_ids, None)
                at_kill["published"] = kill_when(published.count, POSTS // 4, POSTS, "posts out", [pool])
                at_kill["claimed"] = variants.filter(state=Variant.State.PUBLISHING).count()
                say(f"publish: SIGKILL worker pid {pool.kill_and_restart(0)}, {at_kill['published']} out")
            else:
                at_kill, answers = schedule_through_api(web, variant_ids, due, pool)
            run_recovery()
            settle(
                lambda v=variants: (
                    v.filter(state__in=(Variant.State.PUBLISHED, Variant.State.FAILED)).count() >= POSTS
                ),
                "every post out",
                [pool],
            )
            result[victim] = {
                "at_kill": at_kill,
                "unanswered": sum(1 for answer in answers.values() if answer not in (200, 409)),
                **network_counts(variant_ids),
            }
            say(f"publish: after the {victim} kill {result[victim]}")
    finally:
        web.stop()
        pool.stop()
    return result


def schedule_through_api(web: Web, variant_ids: list[int], due, pool) -> tuple[dict, dict]:
    """An API client schedules the variants' posts for `due` (now) from SENDERS threads while the worker
    publishes them; the web process is killed once a third are scheduled, and the client asks again for
    every post that got no answer (409: already published, so it cannot be scheduled again)."""
    from smmdesk.accounts.actions import create_api_token
    from smmdesk.publishing.models import Post

    posts = list(Post.objects.filter(variants__in=variant_ids).order_by("pk").values_list("pk", flat=True))
    owner = Post.objects.get(pk=posts[0]).created_by.user
    _token, secret = create_api_token(owner, "crash test")
    body = {"scheduled_at": due.isoformat()}
    answers: dict[int, int | None] = {}

    def schedule(post_id: int, client) -> None:
        url = f"{web.base}/api/w/bench-publish/posts/{post_id}/schedule"
        try:
            answer = client.post(url, json=body, headers={"Authorization": f"Bearer {secret}"})
            answers[post_id] = answer.status_code
        except Exception:  # noqa: BLE001 - no answer
            answers[post_id] = None

    def schedule_all(post_ids) -> None:
        with http_client() as client, ThreadPoolExecutor(SENDERS) as threads:
            list(threads.map(lambda pk: schedule(pk, client), list(post_ids)))

    web.start()
    client = threading.Thread(target=schedule_all, args=(posts,))
    client.start()
    scheduled = Post.objects.filter(pk__in=posts).exclude(state=Post.State.APPROVED)
    at_kill = {"scheduled": kill_when(scheduled.count, len(posts) // 3, len(posts), "scheduled", [pool, web])}
    say(f"publish: SIGKILL web pid {web.kill()} with {at_kill['scheduled']} posts scheduled")
    client.join()
    at_kill["unanswered"] = sum(1 for answer in answers.values() if answer not in (200, 409))
    web.start()
    for _round in range(3):
        retry = [pk for pk, answer in answers.items() if answer not in (200, 409)]
        if retry:
            schedule_all(retry)
    return at_kill, answers


# --- import -------------------------------------------------------------------------------------------


def orders_file(spec: dict, name: str) -> tuple[Path, set[str]]:
    from django.utils import timezone

    from smmdesk.bench.importing import write_orders

    path = data_dir() / name
    write_orders(path, ROWS, spec["profile"]["districts"], timezone.localdate())
    return path, {f"L-{number:07d}" for number in range(1, ROWS + 1)}


def kill_mid_file(process, path: Path, running) -> float:
    """Wait until the job is running (`running`, a queryset) and `process` has read a quarter of the file,
    then SIGKILL it; the share of the file it had read. (The job must be running: checking the file on
    upload reads it too.)"""
    size = path.stat().st_size

    def quarter_read():
        position = read_position(process.pid, path)
        return position is not None and position >= size // 4 and running.exists() and position

    read = kill_when(quarter_read, 1, size, f"pid {process.pid} importing {path.name}", [process])
    kill(process)
    say(f"import: SIGKILL pid {process.pid} with {read} of {size} bytes read")
    return round(read / size, 3)


def import_counts(workspace, expected: set[str]) -> dict:
    from smmdesk.audience.models import ImportJob, Order

    ids = list(Order.objects.filter(workspace=workspace).values_list("order_id", flat=True))
    jobs = ImportJob.objects.filter(workspace=workspace).order_by("pk")
    return {
        "rows": len(expected),
        "orders": len(ids),
        "distinct": len(set(ids)),
        "missing": len(expected - set(ids)),
        "unexpected": len(set(ids) - expected),
        "jobs": [
            {"status": job.status, "created": job.created, "updated": job.updated, "errors": job.errors[:3]}
            for job in jobs
        ],
    }


def import_in_background(victim: str) -> dict:
    """The upload's use cases (as the import page calls them), the import run by a worker or by
    `smmdesk serve`, which is killed mid-file and started again."""
    from django.core.files import File

    from smmdesk.accounts.models import Membership
    from smmdesk.audience import imports
    from smmdesk.audience.models import ImportJob, Order
    from smmdesk.bench.publish import THREADS, Workers

    workspace, users, spec = demo_workspace(f"crash-{victim}")
    owner = Membership.objects.get(workspace=workspace, user=users["owner"])
    path, expected = orders_file(spec, f"orders-{victim}.csv")
    pool = serve = None
    after_kill = {}
    try:
        if victim == "worker":
            pool = Workers(1, THREADS)
            importer, watched = pool.procs[0], [pool]
        else:
            serve = Web("serve").start()
            importer, watched = serve.process, [serve]
        with path.open("rb") as handle:
            job = imports.start_import(owner, File(handle, name=path.name))
        imports.run_import(owner, job)
        running = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING)
        after_kill["file_read"] = kill_mid_file(importer, Path(job.file.path), running)
        # Before anything is started again: what the killed import left behind.
        after_kill["orders"] = Order.objects.filter(workspace=workspace).count()
        after_kill["status"] = ImportJob.objects.get(pk=job.pk).status
        if pool is not None:
            pool.restart(0)
        else:
            serve.start()
        run_recovery()
        finished = ImportJob.objects.filter(
            pk=job.pk, status__in=(ImportJob.Status.DONE, ImportJob.Status.FAILED)
        )
        settle(finished.exists, "the import to finish", watched)
    finally:
        if pool is not None:
            pool.stop()
        if serve is not None:
            serve.stop()
    return {"after_kill": after_kill, **import_counts(workspace, expected)}


def import_by_command() -> dict:
    from smmdesk.audience.models import ImportJob, Order

    workspace, _users, spec = demo_workspace("crash-command")
    path, expected = orders_file(spec, "orders-command.csv")
    command = [SMMDESK, "audience", "import", str(path), "--workspace", workspace.slug]
    running = ImportJob.objects.filter(workspace=workspace, status=ImportJob.Status.RUNNING)
    after_kill = {"file_read": kill_mid_file(spawn(command, "import-command.log"), path, running)}
    after_kill["orders"] = Order.objects.filter(workspace=workspace).count()
    after_kill["status"] = ImportJob.objects.get(workspace=workspace).status
    run_recovery()
    after_kill["status_after_recovery"] = ImportJob.objects.get(workspace=workspace).status
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    say(f"import: run again, exit {again.returncode}: {again.stdout.strip()}")
    return {"after_kill": after_kill, "rerun_exit": again.returncode, **import_counts(workspace, expected)}


def import_orders() -> dict:
    result = {victim: import_in_background(victim) for victim in ("worker", "web")}
    result["command"] = import_by_command()
    return result


SCENARIOS = {"ingest": ingest, "publish": publish, "import": import_orders}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.crash")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args(argv)
    import django

    django.setup()
    clear_shared_state()
    try:
        result = SCENARIOS[args.scenario]()
    finally:
        clear_shared_state()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
