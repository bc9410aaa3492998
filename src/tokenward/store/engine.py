"""Engine and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from tokenward.store.driver_reads import DriverPool
from tokenward.store.reads import AsyncConnectionReads, ConnectionReads, Reads, StatementWatch
from tokenward.store.sqlite_driver import one_crossing_dbapi

__all__ = ["Store", "close_quietly"]

log = logging.getLogger("tokenward.store")

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_POOL_SIZE = 8

T = TypeVar("T")


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The driver begins nothing by itself: reads run in autocommit, writes begin below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_READ_STATEMENTS = ("SELECT", "PRAGMA", "EXPLAIN")


def _writes(statement: str, context: Any) -> bool:
    """Whether a statement needs the write lock: anything but a plain read. ``FOR UPDATE`` (which
    SQLite does not spell) asks for it too, so a locked read on PostgreSQL is one here."""
    compiled = getattr(context, "compiled", None)
    compiled_statement = getattr(compiled, "statement", None)
    if getattr(compiled_statement, "_for_update_arg", None) is not None:
        return True
    return not statement.lstrip().upper().startswith(_READ_STATEMENTS)


def _in_transaction(dbapi_connection: Any) -> bool:
    driver_connection = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    return bool(getattr(driver_connection, "in_transaction", False))


def _begin_immediate_before_writing(
    connection: Connection,
    cursor: Any,
    statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    """Reads take no lock: each runs on its own in WAL mode, beside any writer. The first write of
    a transaction takes the write lock with ``BEGIN IMMEDIATE``, which waits for the busy timeout;
    no read snapshot is open at that point, so it cannot fail with a stale one ("database is
    locked" at once). Reads before the first write see each its latest commit, as under
    PostgreSQL's READ COMMITTED; from the first write on, the transaction is serial."""
    dbapi_connection = connection.connection.dbapi_connection
    if _in_transaction(dbapi_connection) or not _writes(statement, context):
        return
    cursor.execute("BEGIN IMMEDIATE")


def _owner_only(database_url: str) -> None:
    """The database holds TOTP secrets: readable by its owner only, like the key file beside it.
    SQLite gives the ``-wal`` and ``-shm`` files the database file's mode when it creates them;
    files left readable by an earlier version are tightened, and the log says so."""
    path = Path(database_url.split(":///", 1)[1])
    if not path.exists() and path.parent.is_dir():  # a missing directory stays an outage (503)
        with contextlib.suppress(FileExistsError):  # another process was first
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
                log.warning("made %s readable by its owner only (it was open to others)", file)


def _read_only(dbapi_connection: Any, record: Any) -> None:
    _configure_sqlite(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")  # a lookup that tried to write would fail, loudly
    cursor.close()


def _loop_reader_for(database_url: str) -> Engine | None:
    """SQLite's readers on the event loop's own thread: a file database only.

    A lookup of a few indexed rows takes tens of microseconds in SQLite, less than handing it to
    aiosqlite's thread and waiting for the loop to be woken back (under load the loop holds the
    interpreter and the driver's thread waits its turn for it). In WAL mode a reader waits for no
    writer, so nothing here waits on a lock. The connections are read-only; writes, and every
    session, stay on aiosqlite's thread.
    """
    if not database_url.startswith("sqlite+aiosqlite:///") or database_url.endswith(":memory:"):
        return None
    engine = create_engine(
        database_url.replace("sqlite+aiosqlite:", "sqlite+pysqlite:", 1),
        pool_size=SQLITE_POOL_SIZE,
        max_overflow=0,
        pool_timeout=30,
        pool_pre_ping=False,
        # Lent to one caller at a time, whichever thread it runs on (the loop's, a test's).
        connect_args={"check_same_thread": False},
    )
    event.listen(engine, "connect", _read_only)
    return engine


def create_engine_for(database_url: str) -> AsyncEngine:
    if database_url.startswith("sqlite"):
        memory = database_url.endswith(":memory:")
        if not memory:
            _owner_only(database_url)
        # Several connections: readers run beside each other and beside the one writer.
        engine = create_async_engine(
            database_url,
            pool_size=1 if memory else SQLITE_POOL_SIZE,
            max_overflow=0,
            pool_timeout=30,
            pool_pre_ping=False,
            module=one_crossing_dbapi(),
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "before_cursor_execute", _begin_immediate_before_writing)
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
        self._loop_reader = _loop_reader_for(database_url)
        engines = (self.engine.sync_engine,) + (
            (self._loop_reader,) if self._loop_reader is not None else ()
        )
        self._failure_listeners: list[Callable[[], None]] = []
        for engine in engines:
            event.listen(engine, "handle_error", self._handle_error)
        self.statements = StatementWatch(engines)
        self._driver = (
            DriverPool(database_url, self.engine.dialect, self.statements, self._failed)
            if self.engine.dialect.name == "postgresql"
            else None
        )

    def on_failure(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever a statement finds the store gone (a lost connection or
        server), on any of the paths statements take."""
        self._failure_listeners.append(listener)

    def _handle_error(self, context: ExceptionContext) -> None:
        if context.is_disconnect or isinstance(context.original_exception, OSError):
            self._failed()

    def _failed(self) -> None:
        for listener in self._failure_listeners:
            listener()

    async def read(self, query: Callable[[Reads], Awaitable[T]]) -> T:
        """Run ``query``'s reads outside any session, with no transaction around them: each
        statement sees the latest commit.

        For the lookups of the request path, by the shortest way each backend has: on
        PostgreSQL, asyncpg's prepared statements on a pool of their own (``driver_reads``); on
        SQLite with a file database, a read-only connection on the loop's own thread. Failures
        are the store's: ``SQLAlchemyError`` raised, failure listeners told.
        """
        if self._driver is not None:
            return await self._driver.read(query)
        if self._loop_reader is not None:
            with self._loop_reader.connect() as connection:
                # Runs to its end without yielding: nothing else uses the connection meanwhile.
                return await query(ConnectionReads(connection))
        async with self.engine.connect() as connection:
            return await query(AsyncConnectionReads(connection))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> AsyncSession:
        return self.sessions()

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        if self._driver is not None:
            await self._driver.close()
        await self.engine.dispose()
        if self._loop_reader is not None:
            self._loop_reader.dispose()


async def close_quietly(session: AsyncSession) -> None:
    """Close a session whose connection may have died; a dead connection is discarded."""
    try:
        await session.close()
    except (SQLAlchemyError, OSError):
        with contextlib.suppress(SQLAlchemyError, OSError):  # nothing left to release
            await session.invalidate()
