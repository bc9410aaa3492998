"""The request's store session, as a route dependency (``db: Database``)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.http.before_response import before_response
from tokenward.store.engine import Store, close_quietly

__all__ = ["Database"]


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
