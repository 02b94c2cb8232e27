"""Burst (trend) detection on a series of counts per time bucket: mentions per hour, per 5 minutes, ...

    detect(timestamps, values) -> [Alert(index, timestamp, score), ...]
    scores(timestamps, values) -> one score per point (0.0 during the warm-up)

The method, in five steps (docs/trend-detection.md has the reasoning behind every default):

1. Baseline (detector_model.py): level x daily x weekly profile, learned online and robustly, with the
   uncertainty of each estimate and the series' overdispersion.
2. Raw surprise at several time scales: the counts summed over the last bucket, and over windows about
   three times longer each up to `longest` (for 5-minute buckets: 5, 15 and 45 minutes, 2 h 15,
   6 h 45, 20 h 15 and a day), each against its negative binomial tail, as -log10 P. A spike shows at
   the shortest scale, a swell that lasts the day at the longest.
3. Calibration on the series' own history. Real mention counts have heavier tails than any count model
   (retweet cascades, news), so a raw surprise is turned into the rate, per bucket, at which this
   series has produced bursts that surprising: runs of raw surprise above CALIBRATION_BASE (1 %) count
   as one cluster each, the clusters' rate is counted, and their peaks get a Pareto tail whose index
   is given the posterior of Hill's estimator (the rate used is averaged over it, so a tail fitted on
   few clusters counts as the uncertain thing it is), with a prior of a few clusters as an exact model
   would have them, so a short or calm series keeps the model's own figures. So the same threshold
   means about the same alert rate on a quiet series and on a noisy one.
4. The scales are combined by the harmonic mean of their rates (Wilson's harmonic mean p-value): one
   scale alone pays for the others' chances of a false alarm, as Bonferroni would charge, while a
   burst that several scales see at once is not charged for looking several times at one thing.
5. Alerts: none during the warm-up. A point alerts when its score says bursts like it come less often
   than `false_alarms_per_week`. One burst gives one alert: the next needs `calm` first, a period in
   which no scale was surprising (raw surprise under the base), the same rule that ends a cluster.

Everything is causal: the score at point i uses points up to i only, so running it live gives the same
alerts as running it on the history.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy.special import exp1

from smmdesk.listening.detector_model import LN10, Baseline, fit, keep_factor, window_surprise

WEEK = 7 * 86400.0
# Raw surprise above 2 (a tail probability of 1 %) starts a cluster for the calibration.
CALIBRATION_BASE = 2.0
# Under an exact model the raw surprise above the base is exponential with rate ln 10, and the mean of
# ln(s / base) is e^(ln10 * base) * E1(ln10 * base) (E1 the exponential integral).
EXACT_LOG_EXCESS = math.exp(LN10 * CALIBRATION_BASE) * float(exp1(LN10 * CALIBRATION_BASE))
SCALE_RATIO = 3
# Never alert on anything this series does more often than once in 100 buckets.
MIN_ALERT_SCORE = 2.0


@dataclass(frozen=True)
class Alert:
    index: int
    timestamp: datetime
    score: float


@dataclass(frozen=True)
class Params:
    """The detector's settings; every default is argued for in docs/trend-detection.md."""

    # Alerts per week that a series with no real bursts would still get: the significance threshold.
    false_alarms_per_week: float = 1.0
    # No alert before this much history and this many buckets: whatever the hour the series starts,
    # a whole day is then behind the daily profile.
    warmup: timedelta = timedelta(days=2)
    warmup_buckets: int = 24
    # Memory of the level, of the daily and weekly factors, and of the residuals' spread.
    level_half_life: timedelta = timedelta(hours=12)
    daily_half_life: timedelta = timedelta(days=7)
    weekly_half_life: timedelta = timedelta(days=21)
    spread_half_life: timedelta = timedelta(days=3)
    # Residuals beyond this many standard deviations (square-root scale) are clipped before learning.
    clip: float = 3.0
    # The longest window over which counts are summed: a swell that lasts the day is a trend too.
    longest: timedelta = timedelta(days=1)
    # Memory and prior weight (in clusters) of the calibration on the series' own bursts.
    calibration_half_life: timedelta = timedelta(days=28)
    calibration_prior: float = 5.0
    # Unsurprising this long, the series is back to baseline: a burst (and a calibration cluster) ends.
    calm: timedelta = timedelta(hours=1)

    def threshold(self, step: float) -> float:
        """The score at or above which a bucket of `step` seconds alerts.

        The weekly rate spread over the buckets of a week; for long buckets (a day: 1 in 7) that would
        be no significance at all, so a burst must also be rarer than MIN_ALERT_SCORE says.
        """
        alpha = self.false_alarms_per_week * step / WEEK
        return max(-math.log10(min(max(alpha, 1e-300), 1.0)), MIN_ALERT_SCORE)


DEFAULT = Params()


class OrderError(ValueError):
    """The timestamps are not strictly increasing; `index` is the first row out of order."""

    def __init__(self, index: int, timestamp: datetime, previous: datetime):
        self.index = index
        super().__init__(
            f"row {index} (counting from 0): timestamp {timestamp.isoformat()} is not after the previous one "
            f"({previous.isoformat()}); the series must be sorted by time, without duplicates"
        )


def _epoch(timestamp: datetime) -> float:
    if timestamp.tzinfo is None:  # naive means UTC
        timestamp = timestamp.replace(tzinfo=UTC)
    return timestamp.timestamp()


def _step(seconds: np.ndarray, params: Params) -> float:
    """The bucket size: the median difference, which a few missing buckets do not move.

    Only the first `warmup_buckets` differences count: no alert comes before them, so the alerts on a
    prefix of the series are the alerts on the whole series up to that point.
    """
    if len(seconds) < 2:
        return 86400.0
    return float(np.median(np.diff(seconds[: max(params.warmup_buckets, 1) + 1])))


def _prepare(
    timestamps: Sequence[datetime], values: Sequence[float], params: Params
) -> tuple[np.ndarray, np.ndarray, float]:
    if len(timestamps) != len(values):
        raise ValueError(f"{len(timestamps)} timestamps but {len(values)} values")
    seconds = np.array([_epoch(t) for t in timestamps], dtype=float)
    counts = np.asarray(values, dtype=float).reshape(-1)
    late = np.flatnonzero(np.diff(seconds) <= 0)
    if late.size:
        index = int(late[0]) + 1
        raise OrderError(index, timestamps[index], timestamps[index - 1])
    bad = np.flatnonzero(~np.isfinite(counts) | (counts < 0))
    if bad.size:
        raise ValueError(f"row {bad[0]}: value {values[bad[0]]!r} is not a count (finite, 0 or more)")
    return seconds, counts, _step(seconds, params)


def scale_durations(step: float, params: Params) -> list[float]:
    """Window lengths in seconds: one bucket, then about SCALE_RATIO times longer each, up to `longest`."""
    longest = params.longest.total_seconds()
    durations, buckets = [step], SCALE_RATIO
    while buckets * step < longest:
        durations.append(buckets * step)
        buckets *= SCALE_RATIO
    if longest > step and durations[-1] < longest:
        durations.append(longest)
    # A window of duration d holds the points after t - d: shave a little so it holds d/step of them.
    return [d - step / 2 if d > step else step / 2 for d in durations]


def _calibrate(raw: np.ndarray, baseline: Baseline, params: Params) -> np.ndarray:
    """-log10 of the rate per bucket at which this series has had clusters of raw surprise this high.

    Exceedances of CALIBRATION_BASE closer together than `calm` form one cluster, which counts once, with
    its peak, once it has ended (so the estimate at i uses points before i). Above the base the peaks get
    a Pareto tail, P(peak > s) = rate * (s / base) ** -alpha: on the log scale one giant burst cannot
    make every later one look ordinary. Given n clusters whose log excesses ln(peak / base) sum to B,
    alpha's posterior is Gamma(n, B) (Hill's estimator n / B is its mean), and averaged over it the tail
    is P(peak > s) = rate * (1 + ln(s / base) / B) ** -n: heavier than the plug-in Pareto while n is
    small, the same once many clusters stand behind it. The prior is `calibration_prior` clusters as an
    exact model would have them: one per 10^base buckets, with its mean log excess.
    """
    base, gap = CALIBRATION_BASE, params.calm.total_seconds()
    keep = keep_factor(baseline.step, params.calibration_half_life)
    clusters = params.calibration_prior
    buckets, log_excess = clusters * 10.0**base, clusters * EXACT_LOG_EXCESS
    out = np.zeros(len(raw))
    peak, last_seen = None, 0.0
    for i in np.flatnonzero(baseline.ready):
        value, now = float(raw[i]), float(baseline.seconds[i])
        if peak is not None and now - last_seen > gap:
            clusters, log_excess, peak = clusters + 1.0, log_excess + math.log(peak / base), None
        rarity = -math.log10(clusters / buckets)
        if value > base:
            out[i] = rarity + clusters * math.log1p(math.log(value / base) / log_excess) / LN10
            peak, last_seen = max(peak or value, value), now
        else:
            out[i] = rarity * value / base
        buckets, clusters, log_excess = keep * buckets + 1.0, keep * clusters, keep * log_excess
    return out


def _scores(
    seconds: np.ndarray, counts: np.ndarray, step: float, params: Params
) -> tuple[np.ndarray, np.ndarray, Baseline]:
    """The combined score per point, and whether any scale's raw surprise is above CALIBRATION_BASE."""
    baseline = fit(seconds, counts, step, params)
    durations = scale_durations(step, params)
    calibrated = np.empty((len(durations), len(counts)))
    active = np.zeros(len(counts), bool)
    for row, duration in enumerate(durations):
        raw = window_surprise(counts, baseline, duration)
        active |= raw > CALIBRATION_BASE
        calibrated[row] = _calibrate(raw, baseline, params)
    return np.maximum(_harmonic_mean_score(calibrated), 0.0), active, baseline


def _harmonic_mean_score(calibrated: np.ndarray) -> np.ndarray:
    """-log10 of the harmonic mean of the scales' rates, given -log10 of each (one row per scale).

    Each scale is one more chance of a false alarm. Bonferroni's charge, log10 of the number of scales
    on the best one, is right only for scales that never agree; the scales here overlap (a burst of two
    hours also fills the 45-minute and six-hour windows). The harmonic mean of small rates stays close to
    a valid combination whatever their dependence (Wilson, PNAS 2019): it charges in full a burst that
    one scale alone sees, and nothing for one that all scales see at the same rate. It is never below
    Bonferroni's score.
    """
    top = calibrated.max(axis=0)
    return top + np.log10(np.mean(10.0 ** (calibrated - top), axis=0))


def scores(timestamps: Sequence[datetime], values: Sequence[float], params: Params = DEFAULT) -> list[float]:
    """One score per point: -log10 of how often (per bucket) this series sees a burst like this one."""
    seconds, counts, step = _prepare(timestamps, values, params)
    if len(counts) < 2:
        return [0.0] * len(counts)
    return _scores(seconds, counts, step, params)[0].tolist()


def detect(timestamps: Sequence[datetime], values: Sequence[float], params: Params = DEFAULT) -> list[Alert]:
    """The alerts: one per burst, at its first point whose score passes the threshold."""
    seconds, counts, step = _prepare(timestamps, values, params)
    if len(counts) < 2:
        return []
    surprise, active, baseline = _scores(seconds, counts, step, params)
    threshold = params.threshold(step)
    calm = params.calm.total_seconds()
    alerts: list[Alert] = []
    in_burst, last_active = False, 0.0
    for i in np.flatnonzero(baseline.ready):
        # A burst lasts until no time scale has been surprising (raw tail probability under 1 %) for
        # `calm`: the same rule that makes one calibration cluster, so one burst gives one alert.
        if in_burst and seconds[i] - last_active > calm:
            in_burst = False
        if not in_burst and surprise[i] >= threshold:
            alerts.append(Alert(int(i), timestamps[i], float(surprise[i])))
            in_burst = True
            last_active = seconds[i]
        elif active[i]:
            last_active = seconds[i]
    return alerts
