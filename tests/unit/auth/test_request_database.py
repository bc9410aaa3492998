"""A request's store: a session opened during a request gives its connection back however the
request ends, and a request that opens none holds nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from sqlalchemy import literal, select, text
from starlette.types import Message

from tests.support import run_async
from tokenward.auth.database import RequestDatabase
from tokenward.store.engine import Store

Scope = dict[str, Any]


def _app(store: Store, endpoint: Callable[[RequestDatabase], Awaitable[None]]) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def route(request: Request) -> dict[str, str]:
        await endpoint(RequestDatabase(store, request.scope))
        return {}

    return app


async def _call(app: FastAPI) -> list[dict[str, Any]]:
    """One GET through the ASGI app, as a server would make it; the messages it sent."""
    sent: list[dict[str, Any]] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(dict(message))

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    with contextlib.suppress(RuntimeError):  # an unexpected error still leaves the app
        await app(scope, receive, send)
    return sent


def _checked_out(store: Store) -> int:
    return int(store.engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def _write(database: RequestDatabase) -> None:
    """Begin a transaction left open: the session holds a connection, and closing it has to
    roll back on the store's side (a wait of its own)."""
    await database.session.execute(text("CREATE TABLE IF NOT EXISTS marks (id INTEGER)"))
    await database.session.execute(text("INSERT INTO marks VALUES (1)"))


def test_a_session_is_closed_when_its_request_fails_unexpectedly(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = Store(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        held: list[int] = []

        async def write_then_fail(database: RequestDatabase) -> None:
            await _write(database)
            held.append(_checked_out(store))
            raise RuntimeError("a bug in a handler")

        try:
            sent = await _call(_app(store, write_then_fail))
            assert sent[0]["status"] == 500
            assert held == [1]
            assert _checked_out(store) == 0
        finally:
            await store.close()

    run_async(scenario())


def test_a_session_is_closed_when_its_request_is_cancelled(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = Store(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        writing = anyio.Event()

        async def write_then_wait(database: RequestDatabase) -> None:
            await _write(database)
            writing.set()
            await anyio.sleep_forever()  # a client that went away, a server shutting down

        # Cancelled as a server's task group cancels: every later wait in the request is
        # cancelled too, unless shielded. A close cut short could leave the store stuck.
        with anyio.fail_after(10):
            try:
                async with anyio.create_task_group() as requests:
                    requests.start_soon(_call, _app(store, write_then_wait))
                    await writing.wait()
                    assert _checked_out(store) == 1
                    requests.cancel_scope.cancel()
                assert _checked_out(store) == 0
            finally:
                await store.close()

    run_async(scenario())


def test_a_request_that_reads_rows_only_holds_no_connection_after(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = Store(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        found: list[Any] = []

        async def rows_only(database: RequestDatabase) -> None:
            found.extend(await database.rows(select(literal(7)), {}))
            assert _checked_out(store) == 0

        try:
            sent = await _call(_app(store, rows_only))
            assert sent[0]["status"] == 200
            assert [tuple(row) for row in found] == [(7,)]
            assert _checked_out(store) == 0
        finally:
            await store.close()

    run_async(scenario())
