"""Slow down password guessing: failed logins are counted per client address and per email.

Counts live in this process's memory: behind a load balancer each process throttles on its own,
so the effective limit is multiplied by the number of processes (documented in the README).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LoginThrottle", "ThrottleLimits"]

_MAX_TRACKED_KEYS = 100_000


@dataclass(frozen=True)
class ThrottleLimits:
    per_address: int = 30
    per_email: int = 10
    window_seconds: float = 300.0


class LoginThrottle:
    def __init__(
        self, limits: ThrottleLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or ThrottleLimits()
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        horizon = now - self.limits.window_seconds
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures

    def retry_after(self, address: str | None, email: str) -> int | None:
        """Seconds to wait before another attempt is accepted, or None when it may go ahead."""
        now = self._clock()
        waits = []
        for key, limit in self._keys(address, email):
            failures = self._recent(key, now)
            if len(failures) >= limit:
                oldest_counted = failures[len(failures) - limit]
                waits.append(oldest_counted + self.limits.window_seconds - now)
        return max(1, math.ceil(max(waits))) if waits else None

    def record_failure(self, address: str | None, email: str) -> None:
        now = self._clock()
        for key, _ in self._keys(address, email):
            failures = self._failures.pop(key, None) or deque()
            failures.append(now)
            self._failures[key] = failures  # most recently failed last, for eviction
        while len(self._failures) > _MAX_TRACKED_KEYS:
            self._failures.popitem(last=False)

    def _keys(self, address: str | None, email: str) -> list[tuple[str, int]]:
        keys = [(f"email:{email.strip().lower()}", self.limits.per_email)]
        if address:
            keys.append((f"address:{address}", self.limits.per_address))
        return keys
