"""`smmdesk bench publish` end to end at a small size: the exact last line, nothing lost or doubled,
with and without a worker killed mid-run (at this size the kill may land after the last post; the
1,000-post run is where recovery shows). No timing is asserted."""

import re

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
