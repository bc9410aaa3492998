"""Whether the store is reachable, as ``/healthz`` answers it: from what the process already knows.

The store is asked (``SELECT 1``) at most once per ``interval`` seconds, however many probes
arrive; in between, the last answer stands. A lost connection seen anywhere in the process (any
statement's disconnect, the change listener's) marks the store down at once, until a later check
finds it back: a probe never reports healthy after the process has seen the store fail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from tokenward.store.engine import Store

__all__ = ["StoreHealth"]


class StoreHealth:
    def __init__(
        self,
        store: Store,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.interval = interval
        self.clock = clock
        self.healthy = False
        self._checked_at: float | None = None  # never checked yet: the first probe asks
        self._lock = asyncio.Lock()
        self.checks = 0  # store round trips made for probes

    def watch(self) -> None:
        self.store.on_failure(self.failed)

    def failed(self) -> None:
        """The store was seen failing: answer down until the next check (within ``interval``)."""
        self.healthy = False
        self._checked_at = self.clock()

    def _fresh(self) -> bool:
        return self._checked_at is not None and self.clock() - self._checked_at < self.interval

    async def check(self) -> bool:
        if self._fresh():
            return self.healthy
        async with self._lock:  # probes that arrive during a check share its answer
            if not self._fresh():
                self.checks += 1
                try:
                    await self.store.ping()
                    healthy = True
                except (SQLAlchemyError, OSError):
                    healthy = False
                self.healthy = healthy
                self._checked_at = self.clock()
        return self.healthy
