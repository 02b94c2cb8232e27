"""`smmdesk bench trends [--data DIR]`: the burst detector on the NAB Twitter volume series.

DIR (default ../shared/data/nab_tweets next to the repository) holds Twitter_volume_*.csv (timestamp,
value per 5 minutes) and labels.json ({"windows": {file: [[start, end], ...]}}). Each series goes
through the product's detector with its default settings, as `smmdesk trends detect` runs it, and is
scored against the labelled windows:
- a window is hit when an alert falls inside it (ends included); its delay is the first such alert's
  time minus the window's start;
- every alert outside all windows is a false alert; per week = false alerts / (series duration / 7 days).

The detector was not tuned on these series (docs/trend-detection.md): they are a check, not training data.
Runs in a child process like the other benchmarks, though it needs no database.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from smmdesk.bench import BenchError, run_child, say

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "nab_tweets"
LABELS = "labels.json"
WEEK = timedelta(days=7)


def run_trends(data: str | None = None, echo=print) -> str:
    """Run the benchmark in a child process; returns its last line."""
    folder = Path(data) if data else DEFAULT_DATA
    if not (folder / LABELS).is_file() or not list(folder.glob("*.csv")):
        raise BenchError(f"{folder}: no NAB tweet data here (Twitter_volume_*.csv and {LABELS})")
    return run_child("smmdesk.bench.trends", ["--data", str(folder)], echo)


@dataclass
class Result:
    name: str
    hit: int
    windows: int
    delays: list[float]  # minutes, one per window hit
    false_alerts: int
    weeks: float
    alerts: int

    @property
    def false_per_week(self) -> float:
        return self.false_alerts / self.weeks if self.weeks > 0 else 0.0


def read_series(path: Path) -> tuple[list[datetime], list[float]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [datetime.fromisoformat(row["timestamp"]) for row in rows], [float(row["value"]) for row in rows]


def read_windows(folder: Path) -> dict[str, list[tuple[datetime, datetime]]]:
    labels = json.loads((folder / LABELS).read_text(encoding="utf-8"))
    return {
        name: [(datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in windows]
        for name, windows in labels["windows"].items()
    }


def evaluate(name: str, times: list[datetime], alert_times: list[datetime], windows: list) -> Result:
    delays = []
    for start, end in windows:
        inside = [moment for moment in alert_times if start <= moment <= end]
        if inside:
            delays.append((min(inside) - start).total_seconds() / 60)
    outside = [m for m in alert_times if not any(start <= m <= end for start, end in windows)]
    weeks = (times[-1] - times[0]) / WEEK if times else 0.0
    return Result(name, len(delays), len(windows), delays, len(outside), weeks, len(alert_times))


def _minutes(delays: list[float]) -> str:
    return f"{statistics.median(delays):.0f}" if delays else "n/a"


def series_line(result: Result) -> str:
    return (
        f"trends {result.name}: windows hit {result.hit}/{result.windows}, median delay "
        f"{_minutes(result.delays)} min, false alerts {result.false_alerts} ({result.false_per_week:.2f} "
        f"per week), alerts {result.alerts}"
    )


def summary(results: list[Result]) -> str:
    rates = [result.false_per_week for result in results]
    return (
        f"trends: windows hit {sum(r.hit for r in results)}/{sum(r.windows for r in results)}, median delay "
        f"{_minutes([d for r in results for d in r.delays])} min, false alerts per week: max "
        f"{max(rates, default=0.0):.2f}, mean {statistics.fmean(rates) if rates else 0.0:.2f} over "
        f"{len(results)} series"
    )


def run_series(folder: Path, echo=say) -> list[Result]:
    from smmdesk.listening import detector

    windows = read_windows(folder)
    results, seconds, points = [], 0.0, 0
    for name in sorted(windows):
        path = folder / name
        if not path.is_file():
            raise SystemExit(f"{path}: labelled in {LABELS} but missing")
        times, values = read_series(path)
        started = time.perf_counter()
        alerts = detector.detect(times, values)
        seconds += time.perf_counter() - started
        points += len(times)
        result = evaluate(name, times, [alert.timestamp for alert in alerts], windows[name])
        echo(series_line(result))
        results.append(result)
    if results:
        echo(
            f"trends detector time: {1000 * seconds / len(results):.0f} ms per series of "
            f"{points // len(results)} points on average"
        )
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="smmdesk.bench.trends")
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    args = parser.parse_args(argv)
    say(summary(run_series(Path(args.data))))


if __name__ == "__main__":
    main()
