"""The burst detector's baseline: what count each bucket should have had, and how sure we are of it.

The expected count of a bucket is level x daily factor x weekly factor:
- the daily factor (one slot per hour of the day, or per bucket for buckets of an hour or more) is the
  share of a day's counts that fall in that slot, and the weekly factor (one per day of the week, UTC)
  the ratio of that day's count per bucket to the average over the days of the week seen so far. Both
  are learned only from completed days (seen at 75 % or more), each against its own reference, so
  neither can absorb the other or the level: learning them point by point against a moving level lets
  the level eat the daily cycle and freezes whatever misfit there was into the weekly factors;
- the level is the recent count per bucket with those factors taken out, forgotten with a half-life of
  hours, so it follows what the profile does not explain.

Each is a gamma-Poisson rate from exponentially forgotten sums of counts ("events") and of exposure
(what the reference expected), so every estimate also knows how many events stand behind it: its
relative variance is 1 / events. A factor starts at 1 with a prior of one event, which shrinks slots
seen with few events (the night hours of a small business).

Learning is robust: a count more than `clip` standard deviations from the expectation, on the
square-root scale (where Poisson noise has variance 1/4 at any level), is pulled back to that bound
before it updates anything, so a burst barely moves the baseline while a lasting change of level is
still learned within days. The residuals' spread on that scale, above the Poisson 1/4, is the series'
overdispersion.

The expectation at point i comes from points before i only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from smmdesk.listening.detector import Params

DAY = 86400.0
WEEK = 7 * DAY
HOUR = 3600.0
# A day teaches the profile only if at least this share of its buckets is there.
DAY_COVERAGE = 0.75
# Anscombe's shift: sqrt(x + 3/8) has a variance close to 1/4 for Poisson counts from a mean of ~2 up.
SHIFT = 0.375
POISSON_SQRT_VARIANCE = 0.25
PRIOR_EVENTS = 1.0
# Days of the week differ by tens of percent, not by orders of magnitude as hours do: a prior of ten
# events (a factor of 1, give or take a third) keeps a day seen once with few counts near 1.
WEEKLY_PRIOR_EVENTS = 10.0
# The level's prior is Jeffreys' (half an event): after a silence the level is small but not zero.
LEVEL_PRIOR_EVENTS = 0.5
MIN_MEMORY = 8
TINY_MEAN = 1e-9
# A slot's weight in the level below this is dropped (after weeks without that slot, e.g. a gap).
FORGOTTEN = 1e-6
LN10 = math.log(10.0)
MAX_SURPRISE = 1e6


@dataclass
class Baseline:
    """Per point: the expected count, the relative variance of that estimate, the overdispersion."""

    seconds: np.ndarray
    step: float
    mean: np.ndarray
    relvar: np.ndarray
    dispersion: np.ndarray
    ready: np.ndarray


def keep_factor(interval: float, half_life: timedelta) -> float:
    """What is left of a weight after `interval` seconds, so that it halves every `half_life`."""
    return 0.5 ** (interval / max(half_life.total_seconds(), 1.0))


class Profile:
    """The daily and weekly factors, learned at the end of each completed day."""

    def __init__(self, step: float, params: Params):
        self.slot_width = max(step, HOUR)
        self.slots = max(int(round(DAY / self.slot_width)), 1)
        self.use_daily, self.use_weekly = self.slots >= 2, step <= DAY
        self.buckets_per_day = DAY / step
        self.keep_daily = keep_factor(DAY, params.daily_half_life)
        self.keep_weekly = keep_factor(WEEK, params.weekly_half_life)
        self.daily_events, self.daily_exposure = [0.0] * self.slots, [0.0] * self.slots
        self.weekly_events, self.weekly_buckets = [0.0] * 7, [0.0] * 7
        self.weekly, self.weekly_relvar = [1.0] * 7, [1.0 / WEEKLY_PRIOR_EVENTS] * 7
        self.learned = not self.use_daily  # without a daily cycle there is nothing to wait for
        self.day = None
        self.today_events, self.today_buckets = [0.0] * self.slots, [0] * self.slots

    def slot(self, seconds: float) -> int:
        return int((seconds % DAY) // self.slot_width) % self.slots if self.use_daily else 0

    def advance(self, day: int) -> bool:
        """Called before each point: a new day closes the one before. True if the factors changed."""
        if day == self.day:
            return False
        changed = self.day is not None and self._close(self.day)
        self.day = day
        self.today_events, self.today_buckets = [0.0] * self.slots, [0] * self.slots
        return changed

    def add(self, slot: int, count: float) -> None:
        self.today_events[slot] += count
        self.today_buckets[slot] += 1

    def factor(self, slot: int, weekday: int) -> tuple[float, float]:
        """The expected share of this slot and day of the week, and its relative variance."""
        value, relvar = 1.0, 0.0
        if self.use_daily:
            events = self.daily_events[slot] + PRIOR_EVENTS
            value *= events / (self.daily_exposure[slot] + PRIOR_EVENTS)
            relvar += 1.0 / events
        if self.use_weekly:
            value *= self.weekly[weekday]
            relvar += self.weekly_relvar[weekday]
        return value, relvar

    def _close(self, day: int) -> bool:
        buckets = sum(self.today_buckets)
        if buckets < DAY_COVERAGE * self.buckets_per_day:
            return False
        total = sum(self.today_events)
        mean = total / buckets
        if self.use_daily:
            for slot in range(self.slots):
                self.daily_events[slot] = self.keep_daily * self.daily_events[slot] + self.today_events[slot]
                self.daily_exposure[slot] = (
                    self.keep_daily * self.daily_exposure[slot] + mean * self.today_buckets[slot]
                )
        if self.use_weekly:
            weekday = weekday_of(day)
            self.weekly_events[weekday] = self.keep_weekly * self.weekly_events[weekday] + total
            self.weekly_buckets[weekday] = self.keep_weekly * self.weekly_buckets[weekday] + buckets
            self._weekly_factors()
        self.learned = True
        return True

    def _weekly_factors(self) -> None:
        # Each day of the week against the average of the days seen so far (all of them after a week):
        # comparing each day with the days before it instead would make the first week's days look
        # alike however different they are.
        seen = [d for d in range(7) if self.weekly_buckets[d] > 0]
        average = sum(self.weekly_events[d] / self.weekly_buckets[d] for d in seen) / len(seen)
        for d in seen:
            expected = self.weekly_buckets[d] * average
            self.weekly[d] = (self.weekly_events[d] + WEEKLY_PRIOR_EVENTS) / (expected + WEEKLY_PRIOR_EVENTS)
            self.weekly_relvar[d] = 1.0 / (self.weekly_events[d] + WEEKLY_PRIOR_EVENTS)


def weekday_of(day: int) -> int:
    return (day + 3) % 7  # day 0 of the epoch was a Thursday; 0 = Monday


class Level:
    """The recent count per bucket with the profile taken out: forgotten counts over forgotten exposure.

    Events are the counts themselves, so their sum is also the evidence behind the level. Exposure is
    what the profile expected of each bucket; when the profile is re-learned at the end of a day the
    exposure is re-expressed in the new factors (from the forgotten weight of each slot and day of the
    week), otherwise whatever the old factors missed, the level would carry into the next day.
    """

    def __init__(self, keep: float, step: float):
        self.keep, self.step = keep, step
        self.events = self.exposure = 0.0
        self.time = None
        self.weights: dict[tuple[int, int], list[float]] = {}  # (slot, weekday) -> [weight, time]

    def value(self) -> float:
        return (self.events + LEVEL_PRIOR_EVENTS) / self.exposure

    def _decay(self, since: float, now: float) -> float:
        return self.keep ** ((now - since) / self.step)

    def add(self, now: float, key: tuple[int, int], count: float, seasonal: float) -> None:
        fade = self._decay(self.time, now) if self.time is not None else 0.0
        self.events = fade * self.events + count
        self.exposure = fade * self.exposure + seasonal
        self.time = now
        weight = self.weights.get(key)
        if weight is None:
            self.weights[key] = [1.0, now]
        else:
            weight[0], weight[1] = weight[0] * self._decay(weight[1], now) + 1.0, now

    def reexpress(self, factor) -> None:
        if self.time is None:
            return
        exposure = 0.0
        for key, (weight, since) in list(self.weights.items()):
            left = weight * self._decay(since, self.time)
            if left < FORGOTTEN:
                del self.weights[key]
            else:
                exposure += left * factor(*key)
        self.exposure = exposure


def fit(seconds: np.ndarray, counts: np.ndarray, step: float, params: Params) -> Baseline:
    n = len(counts)
    profile = Profile(step, params)
    # The level and the spread also remember at least MIN_MEMORY buckets, for long buckets (days).
    level = Level(keep_factor(step, max(params.level_half_life, timedelta(seconds=MIN_MEMORY * step))), step)
    keep_spread = keep_factor(step, max(params.spread_half_life, timedelta(seconds=MIN_MEMORY * step)))
    ready_from = seconds[0] + params.warmup.total_seconds()
    spread_sum, spread_weight = POISSON_SQRT_VARIANCE, 1.0
    mean, relvar, dispersion = np.zeros(n), np.zeros(n), np.ones(n)
    ready = np.zeros(n, bool)
    limit = params.clip
    for i in range(n):
        x, now = float(counts[i]), float(seconds[i])
        day = int(now // DAY)
        if profile.advance(day):
            level.reexpress(lambda slot, weekday: profile.factor(slot, weekday)[0])
        key = (profile.slot(now), weekday_of(day))
        seasonal, uncertainty = profile.factor(*key)
        if level.exposure > 0:
            mu = max(level.value() * seasonal, TINY_MEAN)
            uncertainty += 1.0 / (level.events + LEVEL_PRIOR_EVENTS)
            spread = max(1.0, 4.0 * spread_sum / spread_weight)
            # Var(X) = spread*mu + uncertainty*mu^2; on the square-root scale that is divided by 4*mu.
            sd = 0.5 * math.sqrt(spread + uncertainty * mu)
            centre = math.sqrt(mu + SHIFT)
            residual = math.sqrt(x + SHIFT) - centre
            mean[i], relvar[i], dispersion[i] = mu, uncertainty, spread
            ready[i] = i >= params.warmup_buckets and now >= ready_from
            clipped = min(max(residual, -limit * sd), limit * sd)
            x = max((centre + clipped) ** 2 - SHIFT, 0.0)
            if profile.learned:  # before the first daily profile, residuals are mostly the daily cycle
                spread_sum = keep_spread * spread_sum + clipped * clipped
                spread_weight = keep_spread * spread_weight + 1.0
        level.add(now, key, x, seasonal)
        profile.add(key[0], x)
    return Baseline(seconds, step, mean, relvar, dispersion, ready)


def window_surprise(counts: np.ndarray, baseline: Baseline, duration: float) -> np.ndarray:
    """-log10 P(S >= s) for the count s summed over the last `duration` seconds (this point included).

    S is negative binomial with mean m = the expectations' sum and variance spread*m + relvar*m^2:
    Poisson-like noise adds up over the buckets, the estimate's own error does not average out.
    Only points after the warm-up whose window sum is above its expectation get a score.
    """
    seconds = baseline.seconds
    first = np.searchsorted(seconds, seconds - duration, side="right")
    last = np.arange(1, len(seconds) + 1)
    total = np.concatenate([[0.0], np.cumsum(counts)])
    expected_total = np.concatenate([[0.0], np.cumsum(baseline.mean)])
    observed = np.round(total[last] - total[first])
    expected = np.maximum(expected_total[last] - expected_total[first], TINY_MEAN)
    out = np.zeros(len(seconds))
    live = baseline.ready & (observed > expected)
    if not live.any():
        return out
    s, m = observed[live], expected[live]
    inverse_shape = baseline.relvar[live] + (baseline.dispersion[live] - 1.0) / m
    shape = 1.0 / np.maximum(inverse_shape, 1e-12)
    p = shape / (shape + m)
    tail = stats.nbinom.logsf(s - 1, shape, p)
    # Far in the tail scipy returns -inf; the probability of exactly s is a close, finite lower bound.
    tail = np.where(np.isfinite(tail), tail, stats.nbinom.logpmf(s, shape, p))
    # Whatever scipy makes of a degenerate case, a score must stay a finite number (it is printed as JSON).
    out[live] = np.nan_to_num(np.maximum(-tail / LN10, 0.0), nan=0.0, posinf=MAX_SURPRISE)
    return out
