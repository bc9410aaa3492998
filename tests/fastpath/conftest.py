"""Servers for the fast-path tests: several processes' worth of caches over one PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import asyncpg
import pytest

from tests.support import ON_POSTGRES, LiveServer, World, _migrate, run_async
from tokenward.config import Settings
from tokenward.store.notifications import asyncpg_dsn

# Generous: only a change that never arrives fails; speed is measured by ``make bench``.
HANG = 30.0
LONG_TTL = 3600.0  # so that only a notification (or a flush) can explain a change being seen


def on_server_loop(server: LiveServer, factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine on the live server's own event loop (its connections live there)."""
    loop = server.app.state.usage.loop
    assert loop is not None
    return asyncio.run_coroutine_threadsafe(factory(), loop).result(timeout=30)


def wait_for(predicate: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    """Readiness only (a server starting, a listener reconnecting), never a speed assertion."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.01)


def listening(server: LiveServer) -> bool:
    listener = server.app.state.coherence.listener
    return (
        listener is not None and listener.backend_pid is not None and server.app.state.caches.usable
    )


def execute_sql(database_url: str, statement: str, *args: Any) -> Any:
    """A change made behind Tokenward's back: no action, so no notification."""

    async def run() -> Any:
        connection = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            return await connection.fetchval(statement, *args)
        finally:
            await connection.close()

    return run_async(run())


@pytest.fixture(scope="module", params=[ON_POSTGRES])
def postgres_url(database_urls: dict[str, str]) -> str:
    if "postgresql" not in database_urls:
        pytest.fail("the fast-path tests need the PostgreSQL backend (TOKENWARD_TEST_BACKENDS)")
    url = database_urls["postgresql"]
    run_async(_migrate(url))
    return url


def start_server(url: str, secret: str, **changes: Any) -> LiveServer:
    settings = dataclasses.replace(
        Settings(database_url=url, secret_key=secret), cache_ttl_seconds=LONG_TTL, **changes
    )
    server = LiveServer(settings).start()
    if url.startswith("postgresql"):
        wait_for(lambda: listening(server), "the change listener to connect")
    return server


@pytest.fixture(scope="module")
def secret() -> str:
    return "fastpath-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def node_a(postgres_url: str, secret: str) -> Iterator[LiveServer]:
    server = start_server(postgres_url, secret)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def node_b(postgres_url: str, secret: str) -> Iterator[LiveServer]:
    server = start_server(postgres_url, secret)
    yield server
    server.stop()


@pytest.fixture
def world_a(node_a: LiveServer) -> Iterator[World]:
    world = World(node_a)
    yield world
    world.close()


@pytest.fixture
def world_b(node_b: LiveServer) -> Iterator[World]:
    world = World(node_b)
    yield world
    world.close()
