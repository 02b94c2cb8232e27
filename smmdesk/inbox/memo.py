"""A per-batch memo: inside `batch()`, settings-like rows (SLA policies, opening hours, routing rules,
department members) are read once per workspace. Outside it every call reads them fresh, so a changed
rule or schedule applies at once."""

from contextlib import contextmanager
from contextvars import ContextVar

_memo: ContextVar[dict | None] = ContextVar("inbox_memo", default=None)


@contextmanager
def batch():
    token = _memo.set({}) if _memo.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _memo.reset(token)


def remembered(key: tuple, load):
    memo = _memo.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]


def remember(key: tuple, value) -> None:
    """Update a remembered value (e.g. who got the last conversation) when the batch itself changes it."""
    memo = _memo.get()
    if memo is not None:
        memo[key] = value


_deferred: ContextVar[list | None] = ContextVar("inbox_deferred", default=None)


@contextmanager
def deferred():
    """Inside this block `later` queues work that needs rows the batch has not written yet; the caller
    runs the queue once it has written them."""
    queue: list = []
    token = _deferred.set(queue)
    try:
        yield queue
    finally:
        _deferred.reset(token)


def later(function, *args) -> None:
    queue = _deferred.get()
    if queue is None:
        function(*args)
    else:
        queue.append((function, args))
