"""`smmdesk bench ingest --messages N`: the whole inbound pipeline against a raw sqlite3 insert.

In a fresh SQLite database (a throwaway data dir, see smmdesk.bench), with the demo business loaded and
routing rules such a business would have, N generated messages (smmdesk.bench.data) arrive on the demo's
two fake channels as signed webhook bodies of up to 500 events, as a busy webhook or a poll page brings
them, plus 2 % repeated deliveries. The timed part is, per body: verify the signature and parse
(adapter.parse_webhook), then ingest() — echo guard, dedup, threading, customers, triage, routing, SLA,
one transaction per body. Language models and dictionaries are loaded before the clock starts, as in a
running worker; the webhook's HTTP request and the queue hop are not part of it.

Then the same message rows (every column as stored) go into a fresh sqlite3 file with the same table
and indexes and the same PRAGMAs (WAL, synchronous=NORMAL) by executemany, one transaction per 500 rows:
the floor any pipeline on this machine must stand on.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from smmdesk.bench import run_child, say, setup_child

PAGE = 500
SECRET = "bench-webhook-secret"
# What the demo salon would route: complaints to Quality, bookings to Reception, business to Management.
RULES = [
    (
        "Complaints",
        "Quality",
        ["жалоба", "вернуть деньги", "испортить", "безобразие", "refund", "complaint", "sťažnosť"],
    ),
    (
        "Bookings",
        "Reception",
        ["записаться", "запись", "перенести", "book", "appointment", "objednať"],
    ),
    ("Business", "Management", ["сотрудничество", "вакансия", "partnership", "job"]),
]


def run_ingest(messages: int, echo=print) -> str:
    """Run the benchmark in a child process on a throwaway database; returns its last line."""
    return run_child("smmdesk.bench.ingest", ["--messages", str(int(messages))], echo)


def result_line(messages: int, seconds: float, raw_rate: float) -> str:
    rate = messages / seconds if seconds > 0 else 0.0
    ratio = rate / raw_rate if raw_rate > 0 else 0.0
    return (
        f"ingest: {messages} messages in {seconds:.2f} s = {rate:.0f} msg/s; "
        f"raw sqlite3 insert {raw_rate:.0f} rows/s; ratio {ratio:.3f}"
    )


def prepare_channels(workspace):
    """The workspace's fake channels, each with the benchmark's webhook secret, and its routing rules."""
    from pydantic import SecretStr

    from smmdesk.business.models import Department
    from smmdesk.channels.models import Channel
    from smmdesk.inbox.models import RoutingRule

    channels = list(Channel.objects.filter(workspace=workspace, kind="fake").order_by("pk"))
    for channel in channels:
        config = channel.typed_config()
        config.webhook_secret = SecretStr(SECRET)
        channel.store_config(config)
        channel.save()
    departments = dict(Department.objects.filter(workspace=workspace).values_list("name", "pk"))
    if not RoutingRule.objects.filter(workspace=workspace).exists():
        for position, (name, department, words) in enumerate(RULES):
            RoutingRule.objects.create(
                workspace=workspace,
                position=position,
                name=name,
                words=words,
                set_department_id=departments.get(department),
            )
    return channels


def signed_bodies(traffic, channels, page: int = PAGE) -> list[tuple[str, int, bytes, dict]]:
    """(ISO time, channel id, body, headers): signed webhook bodies of up to `page` events, in the order they
    would arrive."""
    pages = []
    for channel in channels:
        items = traffic.items[str(channel.pk)]
        for start in range(0, len(items), page):
            chunk = items[start : start + page]
            body = json.dumps(chunk, ensure_ascii=False).encode()
            signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            pages.append((chunk[0]["date"], channel.pk, body, {"X-Fake-Signature": signature}))
    pages.sort(key=lambda entry: entry[0])
    return pages


def _warm_up(workspace) -> None:
    from smmdesk.bench import data
    from smmdesk.inbox import triage

    languages = list(workspace.profile.languages)
    for language in ("ru", "en", "sk"):
        for topic in ("booking", "question", "complaint", "praise", "followup"):
            for template in data.TEMPLATES[language][topic]:
                verdict = triage.classify(template, languages)
                triage.terms(template, verdict.language or language)


def measure(messages: int, echo=say) -> str:
    from django.conf import settings

    from smmdesk.bench import data
    from smmdesk.bench.inbox import demo_workspace
    from smmdesk.inbox.ingest import IngestResult, ingest
    from smmdesk.inbox.models import Conversation, Message

    echo(f"ingest: fresh SQLite database in a throwaway data dir ({settings.DATA_DIR})")
    workspace = demo_workspace()
    channels = prepare_channels(workspace)
    by_pk = {channel.pk: channel for channel in channels}
    adapters = {channel.pk: channel.adapter() for channel in channels}
    traffic = data.generate(messages, [str(channel.pk) for channel in channels])
    pages = signed_bodies(traffic, channels)
    echo(
        f"ingest: {traffic.messages} messages (+{traffic.duplicates} repeated deliveries) for "
        f"{workspace.slug} on {len(channels)} fake channels, {len(pages)} webhook bodies of up to {PAGE}"
    )
    _warm_up(workspace)
    # The demo workspace already holds a few messages of its own.
    before = Message.objects.filter(workspace=workspace, direction=Message.Direction.IN).count()

    result = IngestResult()
    done = 0
    step = max(len(pages) // 10, 1)
    started = time.perf_counter()
    for index, (_at, channel_pk, body, headers) in enumerate(pages, 1):
        events = adapters[channel_pk].parse_webhook(body, headers)
        result += ingest(by_pk[channel_pk], events)
        done += len(events)
        if index % step == 0 and index < len(pages):
            elapsed = time.perf_counter() - started
            echo(f"  {done} events in {elapsed:.1f} s ({len(result.created) / elapsed:.0f} msg/s)")
    seconds = time.perf_counter() - started

    stored = Message.objects.filter(workspace=workspace, direction=Message.Direction.IN).count() - before
    conversations = Conversation.objects.filter(workspace=workspace).count()
    echo(
        f"pipeline: {len(result.created)} messages stored, {result.duplicates} repeated deliveries "
        f"ignored, {result.new_conversations} conversations ({conversations} in the database)"
    )
    if stored != traffic.messages or len(result.created) != traffic.messages:
        raise SystemExit(f"expected {traffic.messages} messages, the database holds {stored}")
    raw_rate = raw_insert_rate(Path(settings.DATABASES["default"]["NAME"]), echo)
    return result_line(traffic.messages, seconds, raw_rate)


def raw_insert_rate(database: Path, echo=say) -> float:
    """Rows per second for executemany of the stored inbound message rows into a fresh copy of the table."""
    source = sqlite3.connect(database)
    try:
        columns = [row[1] for row in source.execute("PRAGMA table_info(inbox_message)") if row[1] != "id"]
        rows = source.execute(
            f"SELECT {', '.join(columns)} FROM inbox_message WHERE direction = 'in' ORDER BY id"  # noqa: S608
        ).fetchall()
        schema = source.execute(
            # The table and its indexes, not its live-update triggers (inbox/live.py): the floor is the
            # bare insert, and what the triggers cost counts against the pipeline.
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'inbox_message' AND sql IS NOT NULL "
            "AND type IN ('table', 'index') ORDER BY type = 'table' DESC"
        ).fetchall()
    finally:
        source.close()
    insert = f"INSERT INTO inbox_message ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    with tempfile.TemporaryDirectory(prefix="smmdesk-raw-") as folder:
        target = sqlite3.connect(Path(folder) / "raw.sqlite3", isolation_level=None)
        try:
            target.execute("PRAGMA journal_mode=WAL")
            target.execute("PRAGMA synchronous=NORMAL")
            for (statement,) in schema:
                target.execute(statement)
            started = time.perf_counter()
            for start in range(0, len(rows), PAGE):
                target.execute("BEGIN")
                target.executemany(insert, rows[start : start + PAGE])
                target.execute("COMMIT")
            seconds = time.perf_counter() - started
        finally:
            target.close()
    echo(
        f"raw sqlite3: {len(rows)} rows in {seconds:.3f} s (executemany, one transaction per {PAGE} rows, "
        f"same table and {len(schema) - 1} indexes, WAL, synchronous=NORMAL)"
    )
    return len(rows) / seconds if seconds > 0 else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smmdesk bench ingest")
    parser.add_argument("--messages", type=int, required=True)
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    setup_child()
    say(measure(args.messages))


if __name__ == "__main__":
    main()
