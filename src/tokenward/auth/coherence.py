"""Keeping every process's caches coherent with the store.

A change that affects decisions is announced inside its own transaction (``pg_notify`` is
delivered on commit, and only if the commit succeeds), then invalidated in this process right
after the commit, before the response returns. Other processes hear it on their listener. On
SQLite there is one process, so the local invalidation is all there is.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.auth.caches import GateCaches
from tokenward.auth.changes import CHANNEL, Change
from tokenward.metrics import Metrics
from tokenward.store.engine import Store
from tokenward.store.notifications import NotificationListener, asyncpg_dsn

__all__ = ["COHERENCE_KEY", "Coherence", "commit_changes"]

log = logging.getLogger("tokenward.coherence")

# Where a store session finds this process's ``Coherence`` (``Session.info``).
COHERENCE_KEY = "tokenward.coherence"
# A listener that died without a word is not trusted for longer than this after it last
# answered; it is asked several times within it, so a live one never lapses.
LIVENESS_SECONDS = 1.0
PING_SECONDS = 0.2


class Coherence:
    def __init__(
        self,
        caches: GateCaches,
        metrics: Metrics,
        database_url: str,
        *,
        ping_seconds: float = PING_SECONDS,
    ) -> None:
        self.caches = caches
        self.metrics = metrics
        self.notifies = database_url.startswith("postgresql")
        self.listener: NotificationListener | None = None
        if self.notifies:
            self.listener = NotificationListener(
                asyncpg_dsn(database_url),
                CHANNEL,
                on_notification=self._received,
                on_connected=self._connected,
                on_disconnected=self._disconnected,
                on_alive=self._alive,
                ping_seconds=ping_seconds,
            )
        else:
            caches.usable = True  # one process: local invalidation sees every change

    async def start(self) -> None:
        if self.listener is not None:
            self.listener.start()

    def watch(self, store: Store) -> None:
        """Treat a lost store connection as a reason to distrust the caches (fail closed).

        The listener may not have noticed yet (a dead network is seen by whoever speaks first):
        until it has reconnected, nothing is answered from a cache.
        """
        store.on_failure(self.store_failed)

    def store_failed(self) -> None:
        self.caches.flush()
        if self.listener is not None:
            self.caches.usable = False
            self.metrics.listener_connected.set(0)
            self.listener.reconnect()

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()

    async def announce(self, db: AsyncSession, changes: tuple[Change, ...]) -> None:
        if not self.notifies or not changes:
            return
        if len(changes) == 1:
            await db.execute(select(func.pg_notify(CHANNEL, changes[0].encode())))
            return
        # A batch (e.g. a leak report of many tokens) is announced in one round trip.
        await db.execute(
            text(
                "SELECT pg_notify(:channel, payload) "
                "FROM unnest(CAST(:payloads AS text[])) AS payload"
            ),
            {"channel": CHANNEL, "payloads": [change.encode() for change in changes]},
        )

    def applied_locally(self, changes: tuple[Change, ...]) -> None:
        for change in changes:
            self.caches.invalidate(change)
            self.metrics.invalidations_local.labels(change.kind.value).inc()

    def _alive(self) -> None:
        self.caches.alive_until = time.monotonic() + LIVENESS_SECONDS

    def _received(self, payload: str) -> None:
        self._alive()
        change = Change.decode(payload)
        if change is None:
            log.warning("ignored an unknown change notification")
            self.caches.flush()  # unknown means we cannot tell what it touched
            return
        self.caches.invalidate(change)
        self.metrics.invalidations_received.labels(change.kind.value).inc()

    def _connected(self) -> None:
        # Anything committed while we were not listening was not heard: start from empty.
        self.caches.flush()
        self._alive()
        self.caches.usable = True
        self.metrics.listener_connected.set(1)
        log.info("change listener connected; caches flushed")

    def _disconnected(self) -> None:
        self.caches.usable = False
        self.caches.flush()
        self.metrics.listener_connected.set(0)


async def commit_changes(db: AsyncSession, *changes: Change) -> None:
    """Commit ``db``'s transaction, which makes ``changes``, and make every process forget them."""
    coherence = db.info.get(COHERENCE_KEY)
    if isinstance(coherence, Coherence):
        await coherence.announce(db, changes)
    await db.commit()
    if isinstance(coherence, Coherence):
        coherence.applied_locally(changes)
