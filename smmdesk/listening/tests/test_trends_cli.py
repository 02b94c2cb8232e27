"""`smmdesk trends detect` and `smmdesk bench trends`: output format, one-line errors, exit codes."""

import csv
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from click.testing import CliRunner

from smmdesk.cli import main
from smmdesk.listening import detector

START = datetime(2024, 3, 4)
ORENBURG = timezone(timedelta(hours=5))
HOURS = 21 * 24
BURST = 15 * 24 + 14  # 2 pm on day 15


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def one_line_error(result, pattern):
    assert result.exit_code == 2, (result.output, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert re.search(pattern, lines[0]), lines[0]


def series(seed=0):
    """Three weeks of hourly Poisson counts around 10 an hour, with a burst of 60 at BURST."""
    counts = np.random.default_rng(seed).poisson(10, HOURS)
    counts[BURST] = 60
    return [START + timedelta(hours=i) for i in range(HOURS)], [int(c) for c in counts]


def write_csv(path, rows, header=("timestamp", "value")):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def test_prints_one_json_line_per_alert_with_the_timestamp_as_written(tmp_path):
    times, counts = series()
    # Three ways of writing a time, the file's text comes back as it was.
    forms = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S.000000")
    texts = [t.strftime(forms[i % 3]) for i, t in enumerate(times)]
    path = write_csv(tmp_path / "mentions.csv", zip(texts, counts, strict=True))
    result = run("trends", "detect", "--csv", path)
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    expected = detector.detect(times, counts)
    assert expected and BURST in [a.index for a in expected]
    assert lines == [{"timestamp": texts[a.index], "score": round(a.score, 4)} for a in expected]
    assert all(list(line) == ["timestamp", "score"] for line in lines)


def test_other_columns_offsets_and_stdin(tmp_path):
    times, counts = series(1)
    local = [t.replace(tzinfo=UTC).astimezone(ORENBURG).isoformat() for t in times]  # +05:00
    rows = [(n, "x", c, text) for n, (text, c) in enumerate(zip(local, counts, strict=True))]
    body = "n,junk,mentions,when\n" + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in rows)
    result = run(
        "trends", "detect", "--csv", "-", "--time-col", "when", "--value-col", "mentions", input=body
    )
    assert result.exit_code == 0, result.stderr
    alerts = detector.detect(times, counts)
    assert [json.loads(line)["timestamp"] for line in result.stdout.splitlines()] == [
        local[a.index] for a in alerts
    ]


def test_fractional_seconds_and_quiet_series_print_nothing(tmp_path):
    rows = [((START + timedelta(minutes=5 * i)).isoformat(timespec="microseconds"), 3) for i in range(2000)]
    result = run("trends", "detect", "--csv", write_csv(tmp_path / "flat.csv", rows))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("rows", "pattern"),
    [
        (
            [("2024-03-04 10:00:00", 1), ("yesterday", 2)],
            r"row 2 \(line 3\), column 'timestamp': 'yesterday' is not a timestamp",
        ),
        (
            [("2024-03-04 10:00:00", 1), ("2024-03-04 11:00:00", "many")],
            r"row 2 \(line 3\), column 'value': 'many' is not a count",
        ),
        (
            [("2024-03-04 10:00:00", -3), ("2024-03-04 11:00:00", 1)],
            r"row 1 \(line 2\), column 'value': '-3' is not a count",
        ),
        ([("2024-03-04 10:00:00", 1)], r"1 data row\(s\); at least 2 are needed"),
        ([], r"0 data row\(s\)"),
        (
            [("2024-03-04 10:00:00", 1), ("2024-03-04 12:00:00", 1), ("2024-03-04 11:00:00", 1)],
            r"row 3 \(line 4\), column 'timestamp': '2024-03-04 11:00:00' is not after the row before",
        ),
        ([("2024-03-04 10:00:00", 1), ("2024-03-04 10:00:00", 1)], r"row 2 \(line 3\).*not after"),
    ],
)
def test_bad_rows_end_in_one_line_and_exit_2(tmp_path, rows, pattern):
    one_line_error(run("trends", "detect", "--csv", write_csv(tmp_path / "bad.csv", rows)), pattern)


def test_missing_column_file_or_header(tmp_path):
    path = write_csv(tmp_path / "c.csv", [("2024-03-04 10:00:00", 1)] * 3, header=("time", "value"))
    one_line_error(run("trends", "detect", "--csv", path), r"no column 'timestamp' \(columns: time, value\)")
    one_line_error(
        run("trends", "detect", "--csv", path, "--time-col", "time", "--value-col", "n"), "no column 'n'"
    )
    one_line_error(run("trends", "detect", "--csv", str(tmp_path / "nope.csv")), "nope.csv: No such file")
    one_line_error(run("trends", "detect", "--csv", "-", input=""), "stdin: empty file")
    short = "timestamp,value\n2024-03-04 10:00:00,1\n2024-03-04 11:00:00\n"
    one_line_error(run("trends", "detect", "--csv", "-", input=short), r"row 2 \(line 3\): no 'value' column")


def test_bench_prints_a_line_per_series_and_a_summary(tmp_path):
    times, counts = series(2)
    write_csv(
        tmp_path / "Twitter_volume_X.csv",
        [(t.strftime("%Y-%m-%d %H:%M:%S"), c) for t, c in zip(times, counts)],
    )
    window = [str(times[BURST - 5]), str(times[BURST + 5])]
    (tmp_path / "labels.json").write_text(json.dumps({"windows": {"Twitter_volume_X.csv": [window]}}))
    result = run("bench", "trends", "--data", str(tmp_path))
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(
        r"trends Twitter_volume_X\.csv: windows hit 1/1, median delay 300 min, false alerts (\d+) "
        r"\(\d+\.\d\d per week\), alerts \d+",
        lines[0],
    ), lines[0]
    assert re.fullmatch(
        r"trends: windows hit 1/1, median delay 300 min, false alerts per week: max \d+\.\d\d, "
        r"mean \d+\.\d\d over 1 series",
        lines[-1],
    ), lines[-1]


def test_bench_without_data_says_so(tmp_path):
    result = run("bench", "trends", "--data", str(tmp_path))
    assert result.exit_code == 1
    assert "no NAB tweet data here" in result.output
