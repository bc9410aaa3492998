"""Keyset pagination: at most 100 items a page, and a ``Link: <...>; rel="next"`` header."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tokenward.errors import ApiError
from tokenward.store.ids import parse_id

__all__ = ["PageQuery", "paginate"]

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    cursor: str | None
    per_page: int


def page_query(
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


async def paginate(
    db: AsyncSession,
    query: Select[*tuple[Any, ...]],
    key: InstrumentedAttribute[int],
    page: Page,
    request: Request,
    response: Response,
    *,
    newest_first: bool = False,
) -> Sequence[Any]:
    """Run ``query`` ordered by ``key`` from the cursor on; set the next-page Link header."""
    if page.cursor is not None:
        after = int(page.cursor)
        query = query.where(key < after if newest_first else key > after)
    query = query.order_by(key.desc() if newest_first else key.asc()).limit(page.per_page + 1)
    rows = (await db.execute(query)).all()
    if len(rows) > page.per_page:
        rows = rows[: page.per_page]
        last = rows[-1][0]
        url = request.url.include_query_params(cursor=str(last.id), per_page=page.per_page)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return list(rows)
