"""``Store.read``: the request path's lookups, on the loop's thread for a SQLite file."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import OperationalError

from tests.support import run_async
from tokenward.store.engine import Store


def _file_store(tmp_path: Path) -> Store:
    return Store(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")


async def _create_marks(store: Store) -> None:
    async with store.session() as db:
        await db.execute(text("CREATE TABLE marks (id INTEGER PRIMARY KEY)"))
        await db.execute(text("INSERT INTO marks VALUES (1), (2)"))
        await db.commit()


def _thread_and_marks(connection: Connection) -> tuple[int, list[int]]:
    marks = [row[0] for row in connection.execute(text("SELECT id FROM marks ORDER BY id"))]
    return threading.get_ident(), marks


def test_a_sqlite_file_is_read_on_the_callers_thread_and_sees_committed_writes(
    tmp_path: Path,
) -> None:
    async def scenario() -> tuple[int, list[int], list[int]]:
        store = _file_store(tmp_path)
        try:
            await _create_marks(store)
            thread, marks = await store.read(_thread_and_marks)
            async with store.session() as db:  # a write through the driver's thread
                await db.execute(text("INSERT INTO marks VALUES (3)"))
                await db.commit()
            _, after = await store.read(_thread_and_marks)
            return thread, marks, after
        finally:
            await store.close()

    thread, marks, after = run_async(scenario())
    assert thread == threading.get_ident()
    assert marks == [1, 2]
    assert after == [1, 2, 3]


def test_the_loop_reader_cannot_write(tmp_path: Path) -> None:
    def write(connection: Connection) -> None:
        connection.execute(text("INSERT INTO marks VALUES (9)"))

    async def scenario() -> list[int]:
        store = _file_store(tmp_path)
        try:
            await _create_marks(store)
            with pytest.raises(OperationalError, match="readonly"):
                await store.read(write)
            _, marks = await store.read(_thread_and_marks)
            return marks
        finally:
            await store.close()

    assert run_async(scenario()) == [1, 2]


def test_errors_of_reads_reach_the_stores_error_listeners(tmp_path: Path) -> None:
    """How a lost store distrusts the caches and turns health down: on every engine it reads on."""
    seen: list[Any] = []

    def failed(context: ExceptionContext) -> None:
        seen.append(context.original_exception)

    def missing(connection: Connection) -> None:
        connection.execute(text("SELECT id FROM no_such_table"))

    async def scenario() -> None:
        store = _file_store(tmp_path)
        store.listen("handle_error", failed)
        try:
            with pytest.raises(OperationalError):
                await store.read(missing)
            with pytest.raises(OperationalError):
                async with store.session() as db:
                    await db.execute(text("SELECT id FROM no_such_table"))
            store.remove("handle_error", failed)
            with pytest.raises(OperationalError):
                await store.read(missing)
        finally:
            await store.close()

    run_async(scenario())
    assert len(seen) == 2
    assert all("no_such_table" in str(error) for error in seen)


def test_statement_listeners_see_the_loop_readers_statements(tmp_path: Path) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    async def scenario() -> None:
        store = _file_store(tmp_path)
        try:
            await _create_marks(store)
            store.listen("before_cursor_execute", count)
            await store.read(_thread_and_marks)
        finally:
            await store.close()

    run_async(scenario())
    assert statements == ["SELECT id FROM marks ORDER BY id"]
