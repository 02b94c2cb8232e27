"""`smmdesk bench publish` end to end at a small size: the exact last line, nothing lost or doubled,
with and without a worker killed mid-run (at this size the kill may land after the last post; the
1,000-post run is where recovery shows). No timing is asserted."""

import os
import re
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis

from smmdesk.bench import BenchError
from smmdesk.bench.publish import result_line, run_publish

NUMBER = r"(\d+(?:\.\d+)?)"
PUBLISH = re.compile(
    rf"^publish: (\d+) posts, done (-?{NUMBER}) s after due time, duplicates (\d+), lost (\d+), "
    rf"lateness p50 {NUMBER} ms p99 {NUMBER} ms$"
)


def test_result_line():
    line = result_line(10000, 41.25, 0, 0, [float(i) for i in range(101)])
    assert line == (
        "publish: 10000 posts, done 41.2 s after due time, duplicates 0, lost 0, lateness p50 50 ms p99 99 ms"
    )
    assert PUBLISH.match(line)


def test_bench_publish_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("SMMDESK_DATA_DIR", str(tmp_path))
    lines = []
    last = run_publish(30, workers=2, echo=lines.append, lead=4)
    found = PUBLISH.match(last)
    assert found, lines
    assert found.group(1) == "30"
    assert (found.group(4), found.group(5)) == ("0", "0")
    # The throwaway data dir is the child's own, not the caller's.
    assert list(tmp_path.iterdir()) == []


def test_bench_publish_survives_a_killed_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("SMMDESK_DATA_DIR", str(tmp_path))
    lines = []
    last = run_publish(60, workers=2, kill_worker=True, echo=lines.append, lead=4)
    assert any("SIGKILLed worker" in line for line in lines), lines
    found = PUBLISH.match(last)
    assert found, lines
    assert (found.group(4), found.group(5)) == ("0", "0")


@pytest.mark.dbqueue
def test_bench_publish_on_postgresql_and_redis(tmp_path, monkeypatch):
    """The scale-out setup: the bench's own database next to the test database, and the Redis database
    after the test's, both emptied again when it ends."""
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        pytest.skip("runs in the PostgreSQL + Redis leg")
    database = urlsplit(database_url)
    own_database = urlunsplit(database._replace(path=f"{database.path}_bench_publish"))
    queue = urlsplit(redis_url)
    number = int(queue.path.strip("/") or 0)
    own_queue = urlunsplit(queue._replace(path=f"/{(number + 1) % 16}"))
    monkeypatch.setenv("SMMDESK_DATA_DIR", str(tmp_path))
    lines = []
    last = run_publish(
        30, workers=2, echo=lines.append, lead=4, database_url=own_database, redis_url=own_queue
    )
    found = PUBLISH.match(last)
    assert found, lines
    assert (found.group(1), found.group(4), found.group(5)) == ("30", "0", "0")
    assert any("created the throwaway database" in line for line in lines), lines
    with psycopg.connect(database_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", [urlsplit(own_database).path.strip("/")]
        ).fetchone()[0]
    assert left == 0
    assert redis.Redis.from_url(own_queue).dbsize() == 0


def test_bench_publish_wants_both_urls_or_neither():
    with pytest.raises(BenchError, match="go together"):
        run_publish(3, database_url="postgresql://postgres@127.0.0.1/x", echo=lambda line: None)
    with pytest.raises(BenchError, match="--database-url"):
        run_publish(3, database_url="sqlite:///x", redis_url="redis://127.0.0.1/1", echo=lambda line: None)
