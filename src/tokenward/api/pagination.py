"""Keyset pagination: at most 100 items a page, and a ``Link: <...>; rel="next"`` header."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from sqlalchemy import BindParameter, Select, bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tokenward.auth.database import RequestDatabase
from tokenward.errors import ApiError
from tokenward.store.ids import parse_id

__all__ = ["PageQuery", "paginate"]

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    cursor: str | None
    per_page: int


async def page_query(  # async: a plain def would cost a thread hop per request
    cursor: Annotated[
        str | None,
        Query(max_length=18, pattern=r"^[0-9]+$", description="Opaque cursor from a Link header."),
    ] = None,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = MAX_PER_PAGE,
) -> Page:
    if cursor is not None and parse_id(cursor) is None:
        raise ApiError(
            400,
            "invalid-request",
            "The request is not valid.",
            {"errors": [{"field": "cursor", "message": "Not a cursor from a Link header."}]},
        )
    return Page(cursor, per_page)


PageQuery = Annotated[Page, Depends(page_query)]


# Paged forms of statements built once (``params`` given), keyed by the statement's identity.
_PAGED: dict[tuple[int, bool, bool], Select[*tuple[Any, ...]]] = {}


def _paged(
    query: Select[*tuple[Any, ...]],
    key: InstrumentedAttribute[int],
    newest_first: bool,
    from_cursor: bool,
) -> Select[*tuple[Any, ...]]:
    if from_cursor:
        after: BindParameter[int] = bindparam("page_after")
        query = query.where(key < after if newest_first else key > after)
    order = key.desc() if newest_first else key.asc()
    return query.order_by(order).limit(bindparam("page_limit"))


async def paginate(
    db: AsyncSession | RequestDatabase,
    query: Select[*tuple[Any, ...]],
    key: InstrumentedAttribute[int],
    page: Page,
    request: Request,
    response: Response,
    *,
    newest_first: bool = False,
    params: Mapping[str, Any] | None = None,
) -> Sequence[Any]:
    """Run ``query`` ordered by ``key`` from the cursor on; set the next-page Link header.

    A ``query`` built once at import, with bind parameters given in ``params``, is also paged
    once: building a statement costs more than running it on the hot path. Given a
    ``RequestDatabase``, the query is a plain read of columns, run without a session.
    """
    from_cursor = page.cursor is not None
    if params is None:
        paged = _paged(query, key, newest_first, from_cursor)
    else:
        built = (id(query), newest_first, from_cursor)
        found = _PAGED.get(built)
        if found is None:
            found = _PAGED[built] = _paged(query, key, newest_first, from_cursor)
        paged = found
    values = {**(params or {}), "page_limit": page.per_page + 1}
    if page.cursor is not None:
        values["page_after"] = int(page.cursor)
    if isinstance(db, RequestDatabase):
        rows = await db.rows(paged, values)
    else:
        rows = (await db.execute(paged, values)).all()
    if len(rows) > page.per_page:
        rows = rows[: page.per_page]
        last = rows[-1][0]  # rows begin with the entity, or with its key column alone
        cursor = last if isinstance(last, int) else last.id
        url = request.url.include_query_params(cursor=str(cursor), per_page=page.per_page)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return list(rows)
