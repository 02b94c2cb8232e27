"""Fault injection for the fake network: the failures real networks have, at a configurable rate.

    FakeNetwork.faults = FaultInjector(FaultConfig(rate=0.3, seed=7, revoke_after={"shop-2": 40}))

From then on a share (`rate`) of the fake network's calls fail, and each failure is built as the very
exception lib/http raises for it (OutboundError, from httpx's own exception or answer), which the fake
adapter turns into an AdapterError the way the real adapters turn theirs. So the product meets an
injected fault on the same path it meets a real one:

- timeout: the request went out and no answer came (httpx.ReadTimeout -> "timed out", no status);
- reset: the connection dropped before the answer (httpx.ReadError, errno 104 -> "failed", no status);
- 5xx: the network's server failed (500/503 before it acted; 502/504, a gateway losing the answer);
- 429 with Retry-After: refused before anything was done, with the wait the network asks for;
- revoked token: at its `revoke_after`-th call an account's token is revoked, and every later call
  with that token answers 401 until the owner saves a new one.

Each fault is what lib/http hands an adapter after its own retries (it repeats a POST only when the
request never left). A timeout, reset or 5xx strikes either before the network acted or after it did the
write and lost the answer (`lost_response` of them): the second kind is what makes a blind retry post or
reply twice, so the product has to reconcile it. 429 and 401 always refuse before acting, as real
networks do.

Runs are reproducible: each call's fate is drawn from a generator seeded by (seed, account, operation,
subject, how many times that subject was tried), not from one shared stream, so worker threads calling
in a different order still meet the same faults.
"""

from __future__ import annotations

import enum
import random
import threading
from collections import Counter
from dataclasses import dataclass, field

import httpx

from smmdesk.lib import http

ENDPOINT = "https://fake.invalid/api"


class Kind(enum.StrEnum):
    TIMEOUT = "timeout"
    RESET = "reset"
    SERVER_ERROR = "5xx"
    RATE_LIMIT = "429"
    REVOKED = "revoked"


RANDOM_KINDS = (Kind.TIMEOUT, Kind.RESET, Kind.SERVER_ERROR, Kind.RATE_LIMIT)
# A server that fails before acting says "internal error" or "unavailable"; a gateway that loses the
# backend's answer after it acted says "bad gateway" or "gateway timeout".
STATUSES_BEFORE = (500, 503)
STATUSES_AFTER = (502, 504)


@dataclass(frozen=True)
class Fault:
    kind: Kind
    # The network did the write and then the answer was lost.
    after_write: bool = False
    status: int | None = None
    # Seconds in the Retry-After header (429).
    retry_after: int | None = None

    def error(self, method: str = "POST") -> http.OutboundError:
        """The OutboundError lib/http raises for this failure."""
        request = httpx.Request(method, ENDPOINT)
        if self.status is None:
            if self.kind == Kind.TIMEOUT:
                exc = httpx.ReadTimeout("The read operation timed out", request=request)
            else:
                exc = httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
            return http.transport_error(request, exc)
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return http.status_error(method, httpx.Response(self.status, headers=headers, request=request))


@dataclass(frozen=True)
class FaultConfig:
    rate: float = 0.0
    seed: int = 0
    # Of timeouts, resets and 5xx: the share that strikes after the network did the write.
    lost_response: float = 0.5
    retry_after: int = 2
    kinds: tuple[Kind, ...] = RANDOM_KINDS
    # account id -> the call (counted from 1) at which that account's token is revoked.
    revoke_after: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        for name in ("rate", "lost_response"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: expected a share between 0 and 1, got {value!r}")
        if self.retry_after < 0:
            raise ValueError(f"retry_after: expected seconds >= 0, got {self.retry_after!r}")
        unknown = [kind for kind in self.kinds if kind not in RANDOM_KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"kinds: expected some of {', '.join(RANDOM_KINDS)}, got {self.kinds!r}")
        for account, after in self.revoke_after.items():
            if after < 1:
                raise ValueError(f"revoke_after[{account}]: expected a call number >= 1, got {after!r}")


class FaultInjector:
    """Decides, call by call, whether the fake network fails, and counts what it injected."""

    def __init__(self, config: FaultConfig):
        self.config = config
        self.injected: Counter[Kind] = Counter()
        self.lost_responses = 0
        self._lock = threading.Lock()
        self._tries: Counter[tuple[str, str, str]] = Counter()
        self._calls: Counter[str] = Counter()
        self._revoked: set[tuple[str, str]] = set()
        self._subjects: dict[str, str] = {}

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    @property
    def revoked_accounts(self) -> set[str]:
        return {account for account, _token in self._revoked}

    def draw(
        self, account: str, token: str, operation: str, subject: str = "", key: str = ""
    ) -> Fault | None:
        """The fault this call meets, or None. `subject` names what the call is about in a way that is the
        same from run to run (a post's text); `key` is its idempotency key, remembered so a later lookup
        by key alone counts as the same subject."""
        with self._lock:
            if key:
                subject = self._subjects.setdefault(key, subject or key)
            self._calls[account] += 1
            after = self.config.revoke_after.get(account)
            if after is not None and self._calls[account] >= after and account not in self.revoked_accounts:
                self._revoked.add((account, token))
            if (account, token) in self._revoked:
                fault = Fault(Kind.REVOKED, status=401)
            else:
                tries = self._tries[(account, operation, subject)]
                self._tries[(account, operation, subject)] += 1
                fault = self._random(f"{self.config.seed}|{account}|{operation}|{subject}|{tries}")
            if fault is not None:
                self.injected[fault.kind] += 1
                self.lost_responses += fault.after_write
            return fault

    def _random(self, seed: str) -> Fault | None:
        rng = random.Random(seed)
        if rng.random() >= self.config.rate:
            return None
        kind = rng.choice(self.config.kinds)
        if kind == Kind.RATE_LIMIT:
            return Fault(kind, status=429, retry_after=self.config.retry_after)
        after = rng.random() < self.config.lost_response
        if kind == Kind.SERVER_ERROR:
            return Fault(
                kind, after_write=after, status=rng.choice(STATUSES_AFTER if after else STATUSES_BEFORE)
            )
        return Fault(kind, after_write=after)
