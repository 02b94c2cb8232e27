"""The burst detector on synthetic series (fixed seeds), and once on a real NAB series if it is there."""

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from smmdesk.bench.trends import DEFAULT_DATA as NAB
from smmdesk.listening import detector

START = datetime(2024, 3, 4)  # a Monday


def synthetic(seed, weeks, minutes, per_hour, bursts=()):
    """Poisson counts with a daily cycle (peak mid-afternoon, 0.4x at night) and quieter weekends.

    `bursts` are (day, hour) starts of 2 hours at 3x the expected count. Returns the times, the counts,
    the index of each burst's first bucket and a mask of the burst buckets.
    """
    rng = np.random.default_rng(seed)
    n = weeks * 7 * 24 * 60 // minutes
    times = [START + timedelta(minutes=minutes * i) for i in range(n)]
    hours = np.array([t.hour + t.minute / 60 for t in times])
    weekend = np.array([t.weekday() >= 5 for t in times])
    mean = (
        per_hour * minutes / 60 * (1 + 0.6 * np.sin(2 * np.pi * (hours - 9) / 24)) * np.where(weekend, 0.7, 1)
    )
    firsts, inside = [], np.zeros(n, bool)
    for day, hour in bursts:
        first = (day * 24 + hour) * 60 // minutes
        mean[first : first + 120 // minutes] *= 3
        inside[first : first + 120 // minutes] = True
        firsts.append(first)
    return times, rng.poisson(mean).astype(float), firsts, inside


def per_week(alerts, times):
    return len(alerts) / ((times[-1] - times[0]) / timedelta(days=7))


@pytest.mark.parametrize(("minutes", "per_hour"), [(5, 20), (5, 200), (60, 0.5), (60, 20)])
@pytest.mark.parametrize("seed", [1, 2])
def test_a_series_without_bursts_alerts_at_most_once_a_week(minutes, per_hour, seed):
    times, counts, _, _ = synthetic(seed, weeks=5, minutes=minutes, per_hour=per_hour)
    alerts = detector.detect(times, counts)
    assert per_week(alerts, times) <= 1.0, [(str(a.timestamp), a.score) for a in alerts]


@pytest.mark.parametrize(("minutes", "per_hour", "within"), [(5, 60, 9), (60, 30, 1)])
@pytest.mark.parametrize("seed", [3, 4])
def test_injected_bursts_are_found_within_a_few_buckets(minutes, per_hour, within, seed):
    times, counts, firsts, inside = synthetic(
        seed, weeks=5, minutes=minutes, per_hour=per_hour, bursts=[(10, 10), (19, 20), (30, 7)]
    )
    alerts = detector.detect(times, counts)
    for first in firsts:
        delays = [a.index - first for a in alerts if first <= a.index < first + 120 // minutes]
        assert delays and delays[0] <= within, (str(times[first]), delays)
    assert sum(inside[a.index] for a in alerts) == len(firsts)  # one alert per burst
    outside = [a for a in alerts if not inside[a.index]]
    assert per_week(outside, times) <= 1.0


def test_low_counts_a_burst_of_eight_alerts_and_a_two_at_night_does_not():
    times, counts, _, _ = synthetic(5, weeks=4, minutes=60, per_hour=0.5)
    eight, two = 20 * 24 + 15, 24 * 24 + 3  # 3 pm on day 20; 3 am on day 24
    counts[eight], counts[two] = 8, 2
    alerted = {a.index for a in detector.detect(times, counts)}
    assert eight in alerted
    assert two not in alerted


def test_one_burst_gives_one_alert():
    times, counts, _, _ = synthetic(6, weeks=3, minutes=5, per_hour=100)
    first = 15 * 288 + 14 * 12
    counts[first : first + 48] *= 5  # four hours at 5x
    alerts = [a for a in detector.detect(times, counts) if first <= a.index < first + 100]
    assert len(alerts) == 1


def test_causal_a_prefix_gives_the_same_alerts_and_scores():
    times, counts, firsts, _ = synthetic(7, weeks=3, minutes=5, per_hour=60, bursts=[(5, 12), (12, 18)])
    alerts = detector.detect(times, counts)
    every = detector.scores(times, counts)
    assert alerts
    for k in (firsts[0] + 3, firsts[1] - 1, firsts[1] + 10, len(times) - 7):
        assert detector.detect(times[:k], counts[:k]) == [a for a in alerts if a.index < k]
        assert detector.scores(times[:k], counts[:k]) == every[:k]


def test_scores_and_alerts_agree():
    times, counts, firsts, _ = synthetic(8, weeks=3, minutes=60, per_hour=20, bursts=[(9, 14), (16, 11)])
    every = detector.scores(times, counts)
    alerts = detector.detect(times, counts)
    assert len(every) == len(times)
    assert every[: 2 * 24] == [0.0] * 48  # the warm-up: no evidence yet
    assert len(alerts) >= 2
    for alert in alerts:
        assert alert.timestamp == times[alert.index]
        assert alert.score == every[alert.index] >= detector.DEFAULT.threshold(3600)


@pytest.mark.parametrize(("step", "points"), [(timedelta(minutes=15), 3000), (timedelta(days=1), 120)])
def test_other_bucket_sizes(step, points):
    rng = np.random.default_rng(9)
    times = [START + step * i for i in range(points)]
    counts = rng.poisson(40, points).astype(float)
    spike = points - points // 5
    counts[spike] = 130
    alerts = detector.detect(times, counts)
    assert spike in [a.index for a in alerts]
    assert len(alerts) <= 3


def test_gaps_are_tolerated():
    times, counts, _, _ = synthetic(10, weeks=4, minutes=60, per_hour=20, bursts=[(22, 13)])
    rng = np.random.default_rng(10)
    keep = rng.random(len(times)) > 0.1  # a tenth of the buckets missing
    keep[12 * 24 : 15 * 24] = False  # and three whole days
    kept = np.flatnonzero(keep)
    alerts = detector.detect([times[i] for i in kept], counts[kept])
    burst = [kept[a.index] for a in alerts if 22 * 24 + 13 <= kept[a.index] < 22 * 24 + 15]
    assert burst
    assert len(alerts) <= 4


def test_offsets_are_honoured_and_naive_means_utc():
    times, counts, _, _ = synthetic(11, weeks=2, minutes=60, per_hour=20, bursts=[(9, 9)])
    naive = detector.detect(times, counts)
    shifted = [t.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=5))) for t in times]
    assert [(a.index, a.score) for a in detector.detect(shifted, counts)] == [
        (a.index, a.score) for a in naive
    ]


def test_unsorted_or_repeated_timestamps_are_refused_naming_the_row():
    times = [START + timedelta(hours=i) for i in range(10)]
    swapped = times[:5] + [times[6], times[5]] + times[7:]
    with pytest.raises(ValueError, match=r"row 6 \(counting from 0\).*not after"):
        detector.detect(swapped, [1.0] * 10)
    with pytest.raises(ValueError, match=r"row 3 "):
        detector.scores(times[:3] + times[2:9], [1.0] * 10)
    with pytest.raises(ValueError, match=r"row 4: value -1"):
        detector.detect(times, [1.0] * 4 + [-1.0] + [1.0] * 5)


def test_short_series():
    assert detector.detect([], []) == [] and detector.scores([], []) == []
    assert detector.detect([START], [3.0]) == [] and detector.scores([START], [3.0]) == [0.0]
    assert detector.scores([START, START + timedelta(hours=1)], [0.0, 50.0]) == [0.0, 0.0]


def test_sixteen_thousand_points_in_well_under_a_second():
    import time

    times, counts, _, _ = synthetic(12, weeks=8, minutes=5, per_hour=100)
    started = time.process_time()  # CPU time: other jobs on the machine do not count
    detector.detect(times[:16000], counts[:16000])
    assert time.process_time() - started < 1.0


@pytest.mark.skipif(not (NAB / "labels.json").is_file(), reason="no NAB tweet data in ../shared/data")
def test_a_real_nab_series_has_a_labelled_window_hit():
    from smmdesk.bench import trends

    name = "Twitter_volume_FB.csv"
    times, values = trends.read_series(NAB / name)
    windows = trends.read_windows(NAB)[name]
    result = trends.evaluate(name, times, [a.timestamp for a in detector.detect(times, values)], windows)
    assert result.hit >= 1
