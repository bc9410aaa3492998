"""``ReadConnections``: how PostgreSQL's reads borrow connections, under many hurried callers."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from tests.support import run_async
from tokenward.store.read_connections import ReadConnections


class FakeConnection:
    """What the stack asks of a connection: whether it is closed, and to end it."""

    numbers = itertools.count(1)

    def __init__(self) -> None:
        self.number = next(self.numbers)
        self.closed = False
        self.terminated = False

    def is_closed(self) -> bool:
        return self.closed

    def terminate(self) -> None:
        self.closed = self.terminated = True

    async def close(self) -> None:
        self.closed = True


class Opener:
    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay = delay
        self.fail = fail
        self.made: list[FakeConnection] = []

    async def __call__(self) -> FakeConnection:
        await asyncio.sleep(self.delay)
        if self.fail:
            raise OSError("connection refused")
        connection = FakeConnection()
        self.made.append(connection)
        return connection


def _stack(opener: Opener, *, size: int = 3, **options: Any) -> ReadConnections:
    settings: dict[str, Any] = {"max_age": 1800.0, "wait_timeout": 5.0, **options}
    return ReadConnections(opener, size=size, **settings)


async def _number(connection: FakeConnection) -> int:
    return connection.number


def _holding(seconds: float, seen: list[int]) -> Callable[[FakeConnection], Awaitable[int]]:
    async def work(connection: FakeConnection) -> int:
        seen.append(connection.number)
        await asyncio.sleep(seconds)
        return connection.number

    return work


def test_the_last_returned_connection_is_lent_again() -> None:
    async def scenario() -> tuple[list[int], Opener, ReadConnections]:
        opener = Opener()
        stack = _stack(opener)
        numbers = [await stack.run(_number) for _ in range(5)]
        return numbers, opener, stack

    numbers, opener, stack = run_async(scenario())
    assert len(opener.made) == 1
    assert numbers == [opener.made[0].number] * 5
    assert (stack.open, stack.idle) == (1, 1)


def test_many_callers_share_at_most_size_connections_and_all_are_served() -> None:
    async def scenario() -> tuple[list[int], Opener, ReadConnections, int]:
        opener = Opener(delay=0.01)  # slow to connect: every caller arrives before any is open
        stack = _stack(opener, size=3)
        seen: list[int] = []
        most = 0

        async def watched(connection: FakeConnection) -> int:
            nonlocal most
            most = max(most, stack.open)
            return await _holding(0.005, seen)(connection)

        results = await asyncio.gather(*(stack.run(watched) for _ in range(40)))
        return results, opener, stack, most

    results, opener, stack, most = run_async(scenario())
    assert len(results) == 40
    assert len(opener.made) == 3  # reserved before connecting, not after
    assert most <= 3
    assert (stack.open, stack.idle) == (3, 3)


def test_work_that_fails_ends_its_connection_and_the_next_caller_gets_a_new_one() -> None:
    async def scenario() -> tuple[Opener, int, ReadConnections]:
        opener = Opener()
        stack = _stack(opener)

        async def broken(_connection: FakeConnection) -> None:
            raise ValueError("cut short mid-statement")

        with pytest.raises(ValueError):
            await stack.run(broken)
        return opener, await stack.run(_number), stack

    opener, number, stack = run_async(scenario())
    assert opener.made[0].terminated
    assert number == opener.made[1].number
    assert (stack.open, stack.idle) == (1, 1)


def test_a_cancelled_loan_ends_its_connection_and_frees_its_place() -> None:
    async def scenario() -> tuple[Opener, ReadConnections, int]:
        opener = Opener()
        stack = _stack(opener, size=1)
        held = asyncio.create_task(stack.run(_holding(10, [])))
        await asyncio.sleep(0.01)
        held.cancel()
        with pytest.raises(asyncio.CancelledError):
            await held
        return opener, stack, await stack.run(_number)

    opener, stack, number = run_async(scenario())
    assert opener.made[0].terminated
    assert number == opener.made[1].number
    assert stack.open == 1


def test_closed_and_old_connections_are_not_lent() -> None:
    now = [0.0]

    async def scenario() -> tuple[Opener, list[int]]:
        opener = Opener()
        stack = _stack(opener, max_age=60.0, clock=lambda: now[0])
        numbers = [await stack.run(_number)]
        opener.made[0].closed = True  # the server ended it while idle
        numbers.append(await stack.run(_number))
        now[0] += 61  # older than max_age
        numbers.append(await stack.run(_number))
        return opener, numbers

    opener, numbers = run_async(scenario())
    assert numbers == [connection.number for connection in opener.made]
    assert len(opener.made) == 3
    assert opener.made[1].terminated


def test_a_failed_connect_frees_its_place_for_those_waiting() -> None:
    async def scenario() -> tuple[list[Any], ReadConnections]:
        opener = Opener(delay=0.01, fail=True)
        stack = _stack(opener, size=1)
        first = asyncio.create_task(stack.run(_number))
        await asyncio.sleep(0)  # the first reserves the only place, the second waits
        second = asyncio.create_task(stack.run(_number))
        outcomes = await asyncio.gather(first, second, return_exceptions=True)
        return list(outcomes), stack

    outcomes, stack = run_async(scenario())
    assert [type(outcome) for outcome in outcomes] == [OSError, OSError]
    assert stack.open == 0


def test_a_cancelled_waiter_leaves_the_line_and_the_others_are_served() -> None:
    async def scenario() -> tuple[list[Any], ReadConnections]:
        stack = _stack(Opener(), size=1)
        seen: list[int] = []
        holder = asyncio.create_task(stack.run(_holding(0.05, seen)))
        await asyncio.sleep(0.01)
        waiters = [asyncio.create_task(stack.run(_number)) for _ in range(3)]
        await asyncio.sleep(0.01)
        waiters[0].cancel()
        outcomes = await asyncio.gather(holder, *waiters, return_exceptions=True)
        return outcomes, stack

    outcomes, stack = run_async(scenario())
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert all(isinstance(outcome, int) for outcome in outcomes[2:])
    assert (stack.open, stack.idle) == (1, 1)


def test_waiting_longer_than_the_timeout_is_an_error_and_changes_nothing() -> None:
    async def scenario() -> ReadConnections:
        stack = _stack(Opener(), size=1, wait_timeout=0.05)
        holder = asyncio.create_task(stack.run(_holding(0.5, [])))
        await asyncio.sleep(0.01)
        with pytest.raises(TimeoutError):
            await stack.run(_number)
        await holder
        return stack

    stack = run_async(scenario())
    assert (stack.open, stack.idle) == (1, 1)


def test_a_closed_stack_closes_its_idle_connections_and_lends_no_more() -> None:
    async def scenario() -> tuple[Opener, ReadConnections]:
        opener = Opener()
        stack = _stack(opener)
        await stack.run(_number)
        await stack.close(1.0)
        with pytest.raises(asyncpg.InterfaceError):
            await stack.run(_number)
        return opener, stack

    opener, stack = run_async(scenario())
    assert opener.made[0].closed
    assert (stack.open, stack.idle) == (0, 0)
