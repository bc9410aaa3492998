"""Engine and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from tokenward.store.sqlite_driver import one_crossing_dbapi

__all__ = ["Store", "close_quietly", "create_engine_for"]

SQLITE_BUSY_TIMEOUT_MS = 10_000


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun by ``_begin_immediate`` below, not implicitly by the driver.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    """Take the write lock when a transaction begins, not when it first writes: a transaction
    that read and then writes can otherwise fail at once with "database is locked" when another
    process wrote in between; waiting at BEGIN honours the busy timeout instead."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine_for(database_url: str) -> AsyncEngine:
    if database_url.startswith("sqlite"):
        # One connection per process: SQLite has one writer anyway, and serializing in-process
        # means concurrent requests queue here instead of failing with "database is locked".
        engine = create_async_engine(
            database_url,
            pool_size=1,
            max_overflow=0,
            pool_timeout=30,
            pool_pre_ping=False,
            module=one_crossing_dbapi(),
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    # No pre-ping: it would cost a round trip per checkout. A connection found dead by a
    # statement is a disconnect error: SQLAlchemy invalidates the pool, the request answers 503
    # (fail closed, see Coherence.watch) and the next checkout connects anew.
    return create_async_engine(
        database_url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={"timeout": 5, "command_timeout": 10},
    )


class Store:
    """The engine and a session factory. Knows nothing of HTTP."""

    def __init__(self, database_url: str, session_info: dict[str, Any] | None = None) -> None:
        self.database_url = database_url
        self.engine = create_engine_for(database_url)
        # ``session_info`` lands in every session's ``info`` (how actions reach the caches).
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info=session_info or {}
        )
        reader = (
            self.engine
            if database_url.startswith("sqlite")
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._lookups = async_sessionmaker(reader, expire_on_commit=False)

    def lookup(self) -> AsyncSession:
        """A session for a credential lookup: one read statement. On PostgreSQL it runs in
        autocommit, as one statement needs no BEGIN and ROLLBACK round trips around it."""
        return self._lookups()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> AsyncSession:
        return self.sessions()

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


async def close_quietly(session: AsyncSession) -> None:
    """Close a session whose connection may have died; a dead connection is discarded."""
    try:
        await session.close()
    except (SQLAlchemyError, OSError):
        with contextlib.suppress(SQLAlchemyError, OSError):  # nothing left to release
            await session.invalidate()
