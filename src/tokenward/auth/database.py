"""The request's store: a session as a route dependency (``db: Database``), and
``RequestDatabase``, what the gate gives organization routes (``context.db``, ``context.database``).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from tokenward.http.before_response import before_response
from tokenward.store.engine import Store, close_quietly
from tokenward.store.reads import AsyncConnectionReads, Reads

__all__ = ["Database", "RequestDatabase"]

T = TypeVar("T")

# Where FastAPI keeps the exit stack it unwinds when a request ends (its dependencies with
# ``yield`` are closed there): present whenever it solves a route's dependencies.
_REQUEST_EXIT_STACK = "fastapi_inner_astack"


async def database(request: Request) -> AsyncIterator[AsyncSession]:
    store: Store = request.app.state.store
    session = store.session()
    # Released before the response is sent, so a slow reader holds no store connection.
    before_response(request.scope, functools.partial(close_quietly, session))
    try:
        yield session
    finally:
        # A connection that died during the request must not turn the 503 already being sent
        # into a dropped connection: closing is quiet.
        await close_quietly(session)


Database = Annotated[AsyncSession, Depends(database)]


class RequestDatabase:
    """One request's way to the store: a session opened on first use, and plain reads.

    A read served from the caches opens nothing, and costs nothing to close. ``rows`` runs a
    read-only Core statement without the ORM session's machinery; its errors are the session's
    (the engine's error handlers see them: a lost connection answers 503 and stops the caches).

    Made with a request's ``scope``, a session once opened is released before the response is
    sent (a slow reader holds no connection) and closed when the request ends whatever happens.
    Made without one, its maker calls ``close``.
    """

    __slots__ = ("_scope", "_session", "_store")

    def __init__(self, store: Store, scope: Scope | None = None) -> None:
        self._store = store
        self._scope = scope
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        session = self._session
        if session is None:
            scope = self._scope
            request_end = None if scope is None else _request_exit_stack(scope)
            session = self._session = self._store.session()
            if scope is not None and request_end is not None:
                before_response(scope, functools.partial(close_quietly, session))
                request_end.push_async_callback(_close_shielded, session)
        return session

    async def read(self, query: Callable[[Reads], Awaitable[T]]) -> T:
        """Run ``query``'s reads (plain Core statements) without the ORM session's machinery.
        On the session's connection when it holds one (a request never waits for a second
        connection while holding one, so requests cannot drain the pool waiting on each other);
        else on a connection borrowed for the reads alone, with no transaction begun and ended
        around them (``Store.read``). Errors are the engine's own: a lost connection answers 503
        and stops the caches."""
        session = self._session
        if session is not None and session.in_transaction():
            return await query(AsyncConnectionReads(await session.connection()))
        return await self._store.read(query)

    async def rows(
        self, statement: Select[*tuple[Any, ...]], parameters: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        """A read-only statement's rows (tuples), read as ``read`` does."""

        async def run(reads: Reads) -> Sequence[Sequence[Any]]:
            return await reads.all(statement, parameters)

        return await self.read(run)

    async def close(self) -> None:
        if self._session is not None:
            # A connection that died during the request must not turn the 503 already being
            # sent into a dropped connection: closing is quiet.
            await close_quietly(self._session)


def _request_exit_stack(scope: Scope) -> AsyncExitStack:
    """What a dependency with ``yield`` would close its session in, paid only by requests that
    open one: FastAPI unwinds it when the request ends, after an unexpected error or a
    cancellation too."""
    stack = scope.get(_REQUEST_EXIT_STACK)
    if not isinstance(stack, AsyncExitStack):  # nothing would close a session: open none
        raise RuntimeError("a request's session is opened only while FastAPI serves a route")
    return stack


async def _close_shielded(session: AsyncSession) -> None:
    with anyio.CancelScope(shield=True):  # a cancelled request still gives its connection back
        await close_quietly(session)
