"""The benchmarks run end to end at a small size and print their last line in the exact format; the
generated traffic looks like the demo salon's, and the imported orders are in the bench's database. No
timing is asserted: these are commands, not tests of speed."""

import re
import sqlite3
from collections import Counter
from contextlib import closing, contextmanager
from types import SimpleNamespace

import pytest

from smmdesk import bench
from smmdesk.bench import BenchError, data, run_child
from smmdesk.bench.importing import SERVICES, run_import
from smmdesk.bench.inbox import result_line as inbox_line
from smmdesk.bench.inbox import run_inbox
from smmdesk.bench.ingest import result_line as ingest_line
from smmdesk.bench.ingest import run_ingest

NUMBER = r"(\d+(?:\.\d+)?)"
INGEST = re.compile(
    rf"^ingest: (\d+) messages in {NUMBER} s = {NUMBER} msg/s; raw sqlite3 insert {NUMBER} rows/s; "
    rf"ratio {NUMBER}$"
)
INBOX = re.compile(rf"^inbox: p50 {NUMBER} ms, p95 {NUMBER} ms over (\d+) requests with (\d+) messages$")
IMPORT = re.compile(r"^import: (\d+) rows in (\d+\.\d) s = (\d+) rows/s$")


def test_traffic_is_deterministic_and_realistic():
    traffic = data.generate(3000, ["1", "2"])
    assert traffic == data.generate(3000, ["1", "2"])
    items = [item for key in ("1", "2") for item in traffic.items[key]]
    assert traffic.messages == 3000 and traffic.duplicates == 60
    assert len(items) == 3060 and len({item["id"] for item in items}) == 3000
    kinds = Counter(item["kind"] for item in items)
    assert set(kinds) == {"dm", "comment", "mention"} and kinds["dm"] > kinds["comment"] > kinds["mention"]
    texts = [item["text"] for item in items]
    assert sum(bool(re.search("[а-яё]", t)) for t in texts) > 0.7 * len(texts)  # mostly Russian
    assert any("Hi!" in t or "How much" in t for t in texts)  # some English
    assert any(re.search("[čšžľťď]", t) for t in texts)  # a little Slovak
    assert any(re.search("[\U0001f300-\U0001faff]", t) for t in texts)  # emoji
    # Threads are reused: customers write again, comments gather under posts and answer each other.
    authors = Counter(item["from"] for item in items if item["kind"] == "dm")
    assert max(authors.values()) > 3
    posts = Counter(item["thread"] for item in items if item["kind"] == "comment")
    assert len(posts) < kinds["comment"] / 10
    comment_ids = {item["id"] for item in items if item["kind"] == "comment"}
    replies = [item for item in items if item.get("reply_to")]
    assert replies and all(item["reply_to"] in comment_ids for item in replies)
    times = [item["date"] for item in traffic.items["1"] if item is not None]
    assert times[0] < times[-1]


def test_result_lines():
    assert ingest_line(20000, 8.0, 100000.0) == (
        "ingest: 20000 messages in 8.00 s = 2500 msg/s; raw sqlite3 insert 100000 rows/s; ratio 0.025"
    )
    assert INGEST.match(ingest_line(20000, 8.0, 100000.0))
    line = inbox_line([0.010] * 100 + [0.020] * 91 + [0.050] * 9, 1000000)
    assert line == "inbox: p50 15.0 ms, p95 20.0 ms over 200 requests with 1000000 messages"
    assert INBOX.match(line)


def test_a_failing_child_is_reported():
    with pytest.raises(BenchError, match="exit 2"):
        run_child("smmdesk.bench.ingest", ["--messages", "0"], echo=lambda line: None)


def test_bench_ingest_end_to_end(tmp_path, monkeypatch):
    # The benchmark must not touch the caller's data dir or database.
    monkeypatch.setenv("SMMDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/mine.sqlite3")
    lines = []
    last = run_ingest(200, echo=lines.append)
    assert last == lines[-1]
    found = INGEST.match(last)
    assert found, last
    messages, seconds, rate, raw_rate, ratio = found.groups()
    assert int(messages) == 200
    assert float(seconds) > 0 and float(rate) > 0 and float(raw_rate) > 0
    assert float(ratio) == pytest.approx(float(rate) / float(raw_rate), abs=0.002)
    assert any(
        line.startswith("pipeline: 200 messages stored, 4 repeated deliveries ignored") for line in lines
    )
    assert list(tmp_path.iterdir()) == []


def test_bench_inbox_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("SMMDESK_DATA_DIR", str(tmp_path))
    lines = []
    last = run_inbox(200, None, echo=lines.append)
    found = INBOX.match(last)
    assert found, last
    p50, p95, requests, messages = found.groups()
    assert (int(requests), int(messages)) == (200, 200)
    assert 0 < float(p50) <= float(p95)
    assert any(line.startswith("plan:") and "inbox_queue" in line for line in lines), lines
    assert list(tmp_path.iterdir()) == []


def test_bench_import_end_to_end(tmp_path, monkeypatch):
    # As with ingest: the caller's data dir and database stay untouched.
    mine = tmp_path / "mine"
    mine.mkdir()
    monkeypatch.setenv("SMMDESK_DATA_DIR", str(mine))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{mine}/mine.sqlite3")
    # The child's data dir is thrown away when it ends; kept here, its database shows what was written.
    kept = tmp_path / "bench"
    kept.mkdir()

    @contextmanager
    def keep(prefix=""):
        yield str(kept)

    monkeypatch.setattr(bench, "tempfile", SimpleNamespace(TemporaryDirectory=keep))
    lines = []
    last = run_import(500, echo=lines.append)
    assert last == lines[-1]
    found = IMPORT.match(last)
    assert found, last
    rows, seconds, rate = int(found[1]), float(found[2]), int(found[3])
    assert rows == 500 and rate > 0
    # The rate is worked out from the unrounded time: the shown seconds are within rounding of it.
    assert rows / rate == pytest.approx(seconds, abs=0.051)

    with closing(sqlite3.connect(kept / "smmdesk.sqlite3")) as db:
        stored = db.execute(
            "SELECT o.order_id, o.service_name, o.service_id FROM audience_order o "
            "JOIN accounts_workspace w ON w.id = o.workspace_id WHERE w.slug = 'demo-orenburg'"
        ).fetchall()
    assert sorted(order_id for order_id, _name, _service in stored) == [f"L-{n:07d}" for n in range(1, 501)]
    unknown = Counter(name for _id, name, service in stored if service is None)
    # The two services the CRM writes that the demo profile lacks, counted as the database has them.
    assert set(unknown) == {name for name, _price, _share in SERVICES[-2:]}
    assert (
        "import: created 500; services not in the profile: "
        f"Окрашивание {unknown['Окрашивание']}, Укладка {unknown['Укладка']}"
    ) in lines
    assert list(mine.iterdir()) == []
