"""The organization's audit log, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from tokenward.api.docs import GATED, errors
from tokenward.api.pagination import PageQuery, paginate
from tokenward.api.presenters import audit_entry_out
from tokenward.api.schemas import AuditEntryOut
from tokenward.auth.access import OrgWrite
from tokenward.store.audit import select_entries
from tokenward.store.tables import AuditLogEntry

router = APIRouter(prefix="/api/0/organizations/{org}/audit-logs", tags=["audit log"])


@router.get("/", response_model=list[AuditEntryOut], responses=errors(400, *GATED))
async def list_entries(
    request: Request,
    response: Response,
    page: PageQuery,
    context: OrgWrite,
    event: Annotated[
        str | None, Query(max_length=64, pattern=r"^[a-z0-9.-]+$", description="Only this event.")
    ] = None,
) -> list[AuditEntryOut]:
    query = select_entries(context.admitted, event)
    rows = await paginate(
        context.db, query, AuditLogEntry.id, page, request, response, newest_first=True
    )
    return [audit_entry_out(row[0]) for row in rows]
