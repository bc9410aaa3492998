"""A dedicated PostgreSQL connection that LISTENs on one channel and reconnects by itself.

``on_connected`` runs once LISTEN is in place (so every later commit will be heard) and
``on_disconnected`` as soon as the connection is known to be lost: notifications sent in between
are gone, and the owner must act as if it had missed some. A periodic ``SELECT 1`` notices a
connection that died without the server closing it, and each answer is reported (``on_alive``):
the owner can bound what it trusts by the last sign of life.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

__all__ = ["NotificationListener", "asyncpg_dsn"]

log = logging.getLogger("tokenward.notifications")

_FAILURES = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """``postgresql+asyncpg://…`` as asyncpg itself spells it."""
    scheme, _, rest = sqlalchemy_url.partition("://")
    return f"{scheme.split('+', 1)[0]}://{rest}"


class NotificationListener:
    def __init__(
        self,
        dsn: str,
        channel: str,
        *,
        on_notification: Callable[[str], None],
        on_connected: Callable[[], None],
        on_disconnected: Callable[[], None],
        on_alive: Callable[[], None] = lambda: None,
        retry_seconds: float = 0.2,
        ping_seconds: float = 2.0,
        ping_timeout_seconds: float = 2.0,
    ) -> None:
        self._dsn = dsn
        self._channel = channel
        self._on_notification = on_notification
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._on_alive = on_alive
        self._ping_timeout_seconds = ping_timeout_seconds
        self._retry_seconds = retry_seconds
        self._ping_seconds = ping_seconds
        self._task: asyncio.Task[None] | None = None
        self.backend_pid: int | None = None
        self.connected = asyncio.Event()
        self._connection: Any = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tokenward-change-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def reconnect(self) -> None:
        """Drop the connection (if any); the loop reconnects and reports both events."""
        if self._connection is not None and not self._connection.is_closed():
            self._connection.terminate()

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._on_notification(payload)

    async def _run(self) -> None:
        while True:
            try:
                await self._listen_once()
            except _FAILURES as error:
                log.warning("change listener lost its connection: %s", type(error).__name__)
            await asyncio.sleep(self._retry_seconds)

    async def _listen_once(self) -> None:
        connection = await asyncpg.connect(self._dsn, timeout=5)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        self._connection = connection
        try:
            await connection.add_listener(self._channel, self._notified)
            self.backend_pid = connection.get_server_pid()
            self.connected.set()
            self._on_connected()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self._ping_seconds)
                    break
                await connection.fetchval("SELECT 1", timeout=self._ping_timeout_seconds)
                self._on_alive()
        finally:
            self._connection = None
            self.connected.clear()
            self.backend_pid = None
            self._on_disconnected()
            connection.terminate()
