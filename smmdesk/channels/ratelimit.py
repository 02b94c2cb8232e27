"""Client-side rate limiting, to each network's documented limits, shared by every process.

A fixed window per (key, second) in Django's cache: with Redis every worker on every machine counts
against the same budget; without it each process keeps its own count, which is still within the
limit for the single-process default. `wait` is how long the caller must hold off; adapters call
`acquire`, which sleeps that long (short, by construction) or raises a retryable AdapterError when the
wait would be long, so the task queue retries instead of a worker thread sleeping.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache

from smmdesk.channels.base import AdapterError

# Longer than this, a task is better retried later than a worker held.
MAX_SLEEP = 2.0


def wait(key: str, per_second: float, now: float | None = None) -> float:
    """Take one call from the budget of `per_second` calls a second; seconds to wait before making it."""
    now = time.time() if now is None else now
    # Windows of whole seconds (or longer, for budgets under one call a second).
    window = max(1.0, 1.0 / per_second)
    allowed = max(1, math.floor(per_second * window))
    start = math.floor(now / window) * window
    bucket = f"ratelimit:{key}:{int(start / window)}"
    cache.add(bucket, 0, timeout=int(window) + 2)
    try:
        used = cache.incr(bucket)
    except ValueError:  # evicted between add and incr
        cache.set(bucket, 1, timeout=int(window) + 2)
        used = 1
    if used <= allowed:
        return 0.0
    # Over budget in this window: the caller's turn comes in a later window.
    windows_ahead = math.ceil(used / allowed) - 1
    return start + windows_ahead * window - now


def acquire(key: str, per_second: float, *, sleep=time.sleep) -> None:
    delay = wait(key, per_second)
    if delay <= 0:
        return
    if delay > MAX_SLEEP:
        raise AdapterError(f"client-side rate limit for {key}: retry in {delay:.1f} s", retry_after=delay)
    sleep(delay)
