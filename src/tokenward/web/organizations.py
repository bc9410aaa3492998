"""The caller's organizations, creating one, and an organization's general settings (name)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.organizations import (
    create_organization,
    update_organization,
    visible_organizations,
)
from tokenward.auth.access import (
    BrowserOrgRead,
    BrowserOrgWrite,
    BrowserUser,
)
from tokenward.auth.caller import client_ip
from tokenward.auth.database import Database
from tokenward.auth.form_csrf import PostedForm
from tokenward.auth.organization_context import OrganizationContext
from tokenward.auth.principal import Principal
from tokenward.errors import ApiError
from tokenward.request_bodies import OrganizationCreate, OrganizationUpdate
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    error_context,
    shown_on_form,
    status_for,
    text,
    validated,
)
from tokenward.web.layout import organization_page
from tokenward.web.templating import render

router = APIRouter(include_in_schema=False)


async def _list_page(
    request: Request,
    db: AsyncSession,
    principal: Principal,
    *,
    error: ApiError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    organizations = await visible_organizations(db, principal)
    return render(
        request,
        "organizations.html",
        {
            "organizations": organizations,
            **error_context(error),
            "values": values or {},
        },
        status_code=status_for(error),
    )


@router.get("/organizations/")
async def organizations(
    request: Request,
    principal: BrowserUser,
    db: Database,
) -> HTMLResponse:
    return await _list_page(request, db, principal)


@router.post("/organizations/", response_model=None)
async def create(
    request: Request,
    form: PostedForm,
    principal: BrowserUser,
    db: Database,
) -> Response:
    values = {"slug": text(form, "slug").strip(), "name": text(form, "name")}
    try:
        body = validated(OrganizationCreate, values)
        organization = await create_organization(
            db, principal, slug=body.slug, name=body.name, ip_address=client_ip(request)
        )
    except ApiError as error:
        return await _list_page(request, db, principal, error=shown_on_form(error), values=values)
    return redirect_with_flash(
        request, f"/settings/{organization.slug}/", f"Organization {organization.name} created."
    )


def _general_page(
    request: Request,
    context: OrganizationContext,
    *,
    error: ApiError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    return organization_page(
        request,
        context,
        "organization_general.html",
        "general",
        {**error_context(error), "values": values or {}},
        status_code=status_for(error),
    )


@router.get("/settings/{org}/")
async def general(
    request: Request,
    context: BrowserOrgRead,
) -> HTMLResponse:
    return _general_page(request, context)


@router.post("/settings/{org}/", response_model=None)
async def rename(
    request: Request,
    form: PostedForm,
    context: BrowserOrgWrite,
) -> Response:
    values = {"name": text(form, "name")}
    try:
        body = validated(OrganizationUpdate, values)
        # A held notice about these rules is written again with the new name.
        await update_organization(
            context,
            name=body.name,
            settings={},
            base_url=request.app.state.settings.base_url,
            notice_delay_seconds=request.app.state.settings.notice_delay_seconds,
        )
    except ApiError as error:
        return _general_page(request, context, error=shown_on_form(error), values=values)
    return redirect_with_flash(
        request, f"/settings/{context.organization.slug}/", "Organization name saved."
    )
