"""The connections PostgreSQL's request-path reads borrow: a last-in-first-out stack.

A read borrows a connection for one statement, about 150 µs on a local network. asyncpg's own
pool spends most of that again on each loan (a proxy object, inactivity timers, a task to shield
the release), so the reads keep their connections here instead. What they need is little: lend
the most recently returned connection (its statements are prepared, its CPU cache warm), open
one more while fewer than ``size`` exist, else wait in line. A connection whose work failed in
any way is terminated, never lent again; one found closed or older than ``max_age`` is dropped
when its turn comes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

__all__ = ["ReadConnections"]

T = TypeVar("T")
Connection = Any  # asyncpg.Connection: asyncpg ships no types


class ReadConnections:
    def __init__(
        self,
        connect: Callable[[], Awaitable[Connection]],
        *,
        size: int,
        max_age: float,
        wait_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self._size = size
        self._max_age = max_age
        self._wait_timeout = wait_timeout
        self._clock = clock
        self._idle: list[tuple[Connection, float]] = []  # (connection, opened at); last is next
        self._open = 0  # idle, lent and being opened: reserved before connecting
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    @property
    def open(self) -> int:
        return self._open

    @property
    def idle(self) -> int:
        return len(self._idle)

    async def run(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """``work`` on a borrowed connection; terminated after if ``work`` did not finish."""
        connection, opened_at = await self._borrow()
        try:
            result = await work(connection)
        except BaseException:  # cut short mid-protocol (lost, refused, cancelled)
            self._drop(connection)
            raise
        self._return(connection, opened_at)
        return result

    async def _borrow(self) -> tuple[Connection, float]:
        woken = False
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the store's read connections are closed")
            while self._idle:
                connection, opened_at = self._idle.pop()
                if connection.is_closed() or self._clock() - opened_at > self._max_age:
                    self._drop(connection)
                    continue
                return connection, opened_at
            if self._open < self._size:
                return await self._open_one()
            await self._wait(first=woken)  # a turn given back, or a place to open one
            woken = True

    async def _open_one(self) -> tuple[Connection, float]:
        self._open += 1
        try:
            connection = await self._connect()
        except BaseException:
            self._open -= 1
            self._wake()  # the place is free again for whoever waits
            raise
        return connection, self._clock()

    async def _wait(self, *, first: bool) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Woken and outrun by a newcomer: back to the head of the line, not its end.
        (self._waiting.appendleft if first else self._waiting.append)(waiter)
        try:
            async with asyncio.timeout(self._wait_timeout):
                await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._wake()  # woken just as it gave up: the turn goes to the next in line
            else:
                with contextlib.suppress(ValueError):
                    self._waiting.remove(waiter)
            raise

    def _wake(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _return(self, connection: Connection, opened_at: float) -> None:
        if self._closed or connection.is_closed():
            self._drop(connection)
            return
        self._idle.append((connection, opened_at))
        self._wake()

    def _drop(self, connection: Connection) -> None:
        self._open -= 1
        with contextlib.suppress(Exception):  # already gone, or its loop is
            connection.terminate()
        self._wake()

    async def close(self, seconds: float) -> None:
        """Close the idle connections (``seconds`` each at most) and refuse new loans; lent ones
        end when returned."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            self._open -= 1
            try:
                await asyncio.wait_for(connection.close(), seconds)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError):
                connection.terminate()
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)  # to find the stack closed

    def abandon(self) -> None:
        """Drop every idle connection without a word (their event loop is gone)."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            self._drop(connection)
