"""PostgreSQL's reads of the request path through asyncpg's own pool (see ``reads``).

The pool is the reader's alone: a few connections, opened on first use on the running event loop
(a store used from another loop later opens its own there). A failure is the store's like any
other: it is raised as SQLAlchemy's ``OperationalError`` (the API answers 503, authentication
refuses), and a lost connection or server tells the store's failure listeners, which distrust the
caches and mark the store down, as a lost SQLAlchemy connection does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError

from tokenward.store.notifications import asyncpg_dsn
from tokenward.store.reads import CompiledReads, DriverReads, Reads, StatementWatch

__all__ = ["DriverPool"]

T = TypeVar("T")

POOL_SIZE = 8
CONNECT_TIMEOUT_SECONDS = 5
STATEMENT_TIMEOUT_SECONDS = 10

_LOST = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or does not exist
    asyncpg.AdminShutdownError,
    asyncpg.CannotConnectNowError,
)


def _lost(error: BaseException) -> bool:
    """Whether an error means the connection or the server is gone (not a refused statement)."""
    return isinstance(error, _LOST)


async def _nothing_to_reset(_connection: Any) -> None:
    """asyncpg's default resets a returned connection with a round trip (unlock, close cursors,
    unlisten, reset settings). These connections run single statements in autocommit and change
    no state; one cut short is terminated rather than returned."""


class DriverPool:
    def __init__(
        self,
        database_url: str,
        dialect: Dialect,
        watch: StatementWatch,
        failed: Callable[[], None],
    ) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._compiled = CompiledReads(dialect)
        self._watch = watch
        self._failed = failed
        self._pool: Any = None  # asyncpg.Pool, once opened
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Lock | None = None

    async def read(self, query: Callable[[Reads], Awaitable[T]]) -> T:
        try:
            pool = await self._opened()
            async with pool.acquire() as connection:
                try:
                    return await query(DriverReads(connection, self._compiled, self._watch))
                except BaseException:
                    # Cut short (lost, refused mid-protocol, cancelled): not lent again.
                    connection.terminate()
                    raise
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as error:
            if _lost(error):
                self._failed()
            # No statement and no parameters in the message: a digest is no one's business.
            raise OperationalError(
                "store read", None, error, hide_parameters=True, connection_invalidated=_lost(error)
            ) from error

    async def _opened(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._loop is loop:
            return self._pool
        if self._opening is None or self._loop is not loop:
            self._abandon()
            self._loop, self._opening = loop, asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=0,
                    max_size=POOL_SIZE,
                    timeout=CONNECT_TIMEOUT_SECONDS,
                    command_timeout=STATEMENT_TIMEOUT_SECONDS,
                    # Lookups only: a statement that tried to write would fail, loudly.
                    server_settings={"default_transaction_read_only": "on"},
                    reset=_nothing_to_reset,
                )
        return self._pool

    def _abandon(self) -> None:
        """A pool of a loop no longer running here: its connections are dropped, not closed
        politely (that would need the old loop)."""
        if self._pool is not None:
            with contextlib.suppress(Exception):  # its loop may be closed already
                self._pool.terminate()
            self._pool = None

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if self._loop is not asyncio.get_running_loop():
            self._pool = pool
            self._abandon()
            return
        try:
            await asyncio.wait_for(pool.close(), timeout=CONNECT_TIMEOUT_SECONDS)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError):
            pool.terminate()
