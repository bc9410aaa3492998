"""Token usage gathered in memory and written in batches, never one write per request.

Each request only updates two dictionaries. Every ``flush_seconds`` (and at shutdown) the
gathered batch is swapped out and written in a handful of statements. A failed write puts the
batch back for the next attempt; a crash loses what was gathered since the last flush, i.e. at
most one batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from sqlalchemy.exc import SQLAlchemyError

from tokenward.metrics import Metrics
from tokenward.policy import CredentialKind
from tokenward.store.engine import Store
from tokenward.store.tables import utcnow
from tokenward.store.usage import ORGANIZATION, PERSONAL, CountKey, UseKey, write_usage

__all__ = ["UsageRecorder"]

log = logging.getLogger("tokenward.usage")

_KINDS = {CredentialKind.PERSONAL_TOKEN: PERSONAL, CredentialKind.ORGANIZATION_TOKEN: ORGANIZATION}


class UsageRecorder:
    def __init__(self, store: Store, metrics: Metrics, flush_seconds: float) -> None:
        self.store = store
        self.metrics = metrics
        self.flush_seconds = flush_seconds
        self.loop: asyncio.AbstractEventLoop | None = None
        self._last_used: dict[UseKey, dt.datetime] = {}
        self._counts: dict[CountKey, list[int]] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # Per request: memory only ------------------------------------------------------------------

    def used(self, kind: CredentialKind, token_id: int) -> None:
        label = _KINDS.get(kind)
        if label is not None:
            self._last_used[(label, token_id)] = utcnow()

    def decided(
        self,
        kind: CredentialKind,
        token_id: int,
        organization_id: int,
        allowed: bool,
        *,
        would_be_denied: bool = False,
    ) -> None:
        """Count one decision; ``would_be_denied`` marks an allow granted only by report mode."""
        label = _KINDS.get(kind)
        if label is None:
            return
        key = (label, token_id, organization_id, dt.datetime.now(dt.UTC).date())
        counts = self._counts.get(key)
        if counts is None:
            counts = self._counts[key] = [0, 0, 0]
        counts[0 if allowed else 1] += 1
        if would_be_denied:
            counts[2] += 1

    @property
    def pending(self) -> int:
        return len(self._last_used) + len(self._counts)

    # Batches -----------------------------------------------------------------------------------

    async def flush(self) -> int:
        """Write what has been gathered; returns the number of write statements."""
        async with self._lock:
            last_used, self._last_used = self._last_used, {}
            counts, self._counts = self._counts, {}
            if not last_used and not counts:
                return 0
            try:
                async with self.store.session() as session:
                    statements = await write_usage(
                        session, last_used, {k: (v[0], v[1], v[2]) for k, v in counts.items()}
                    )
            except (SQLAlchemyError, OSError) as error:
                self._restore(last_used, counts)
                self.metrics.usage_failures.inc()
                log.warning("usage batch not written, kept for later: %s", type(error).__name__)
                return 0
            self.metrics.usage_batches.inc()
            self.metrics.usage_writes.inc(statements)
            return statements

    def _restore(
        self, last_used: dict[UseKey, dt.datetime], counts: dict[CountKey, list[int]]
    ) -> None:
        for use, at in last_used.items():
            newer = self._last_used.get(use)
            self._last_used[use] = at if newer is None else max(at, newer)
        for key, added in counts.items():
            current = self._counts.setdefault(key, [0, 0, 0])
            for index, count in enumerate(added):
                current[index] += count

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            # Shielded: stopping during a write must not lose the batch being written.
            await asyncio.shield(self.flush())

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="tokenward-usage-flush")

    async def stop(self) -> None:
        """Stop the timer and write the last batch (the lifespan calls this at shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
