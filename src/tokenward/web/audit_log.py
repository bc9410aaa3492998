"""The organization's audit log, newest first, a page at a time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tokenward.auth.gate import OrganizationContext, organization_access
from tokenward.store.audit import select_entries
from tokenward.store.tables import AuditLogEntry
from tokenward.web.audit_words import describe
from tokenward.web.layout import organization_page

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


@router.get("/settings/{org}/audit-log/")
async def audit_log(
    request: Request,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    context: OrganizationContext = organization_access("org:write", session_only=True),
) -> HTMLResponse:
    query = select_entries(context.admitted).order_by(AuditLogEntry.id.desc())
    if before is not None:
        query = query.where(AuditLogEntry.id < before)
    entries = (await context.db.scalars(query.limit(PER_PAGE + 1))).all()
    shown = entries[:PER_PAGE]
    return organization_page(
        request,
        context,
        "organization_audit_log.html",
        "audit-log",
        {
            "entries": [(entry, describe(entry)) for entry in shown],
            "older": shown[-1].id if len(entries) > PER_PAGE else None,
            "paged": before is not None,
        },
    )
