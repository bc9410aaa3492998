"""The organization's audit log, newest first, a page at a time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tokenward.auth.access import BrowserOrgWrite
from tokenward.auth.organization_context import OrganizationContext
from tokenward.store.audit import entries_listed, events_held
from tokenward.web.audit_words import EVENT_TITLES, describe, event_title
from tokenward.web.layout import organization_page

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


async def _event_choices(context: OrganizationContext) -> list[tuple[str, str]]:
    """Every event this organization's log holds, and the known ones, as (event, words)."""
    events = await events_held(context.db, context.admitted) | set(EVENT_TITLES)
    return sorted(((e, event_title(e)) for e in events), key=lambda choice: choice[1])


@router.get("/settings/{org}/audit-log/")
async def audit_log(
    request: Request,
    context: BrowserOrgWrite,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    event: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9.-]*$")] = None,
) -> HTMLResponse:
    event = event or None  # "All events" sends an empty value
    entries = await entries_listed(
        context.db, context.admitted, event=event, before=before, limit=PER_PAGE + 1
    )
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
            "event": event,
            "event_choices": await _event_choices(context),
        },
    )
