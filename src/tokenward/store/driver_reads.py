"""PostgreSQL's reads of the request path, on asyncpg connections of their own (see ``reads``).

A few read-only connections (``ReadConnections``), opened on first use on the running event loop
(a store used from another loop later opens its own there). A failure is the store's like any
other: it is raised as SQLAlchemy's ``OperationalError`` (the API answers 503, authentication
refuses), and a lost connection or server tells the store's failure listeners, which distrust the
caches and mark the store down, as a lost SQLAlchemy connection does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError

from tokenward.store.notifications import asyncpg_dsn
from tokenward.store.read_connections import ReadConnections
from tokenward.store.reads import CompiledReads, DriverReads, Reads, StatementWatch

__all__ = ["DriverPool"]

T = TypeVar("T")

POOL_SIZE = 8
CONNECT_TIMEOUT_SECONDS = 5
STATEMENT_TIMEOUT_SECONDS = 10
WAIT_SECONDS = 30  # for a connection when all are lent, as the engine's pool waits
MAX_AGE_SECONDS = 1800  # as the engine's pool recycles its connections

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
        self._connections: ReadConnections | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def read(self, query: Callable[[Reads], Awaitable[T]]) -> T:
        try:
            return await self._here().run(self._reading(query))
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as error:
            if _lost(error):
                self._failed()
            # No statement and no parameters in the message: a digest is no one's business.
            raise OperationalError(
                "store read", None, error, hide_parameters=True, connection_invalidated=_lost(error)
            ) from error

    def _reading(self, query: Callable[[Reads], Awaitable[T]]) -> Callable[[Any], Awaitable[T]]:
        compiled, watch = self._compiled, self._watch
        return lambda connection: query(DriverReads(connection, compiled, watch))

    def _here(self) -> ReadConnections:
        """This event loop's connections (a store used from another loop opens its own)."""
        loop = asyncio.get_running_loop()
        connections = self._connections
        if connections is not None and self._loop is loop:
            return connections
        if connections is not None:
            connections.abandon()
        self._loop = loop
        self._connections = connections = ReadConnections(
            self._connect,
            size=POOL_SIZE,
            max_age=MAX_AGE_SECONDS,
            wait_timeout=WAIT_SECONDS,
        )
        return connections

    async def _connect(self) -> Any:
        return await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_TIMEOUT_SECONDS,
            command_timeout=STATEMENT_TIMEOUT_SECONDS,
            # Lookups only: a statement that tried to write would fail, loudly.
            server_settings={"default_transaction_read_only": "on"},
        )

    async def close(self) -> None:
        connections, self._connections = self._connections, None
        if connections is None:
            return
        if self._loop is asyncio.get_running_loop():
            await connections.close(CONNECT_TIMEOUT_SECONDS)
        else:
            connections.abandon()
