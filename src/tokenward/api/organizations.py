"""Organizations: list, create, read, rename, and the owner's security settings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.organizations import (
    create_organization,
    update_organization,
    visible_organizations,
)
from tokenward.api.bodies import body_schema, parse_body
from tokenward.api.docs import AUTHENTICATED, GATED, errors
from tokenward.api.presenters import organization_out
from tokenward.api.schemas import OrganizationCreate, OrganizationOut, OrganizationUpdate
from tokenward.auth.gate import (
    SSO_HEADER,
    OrganizationContext,
    client_ip,
    database,
    organization_access,
    user_level,
)
from tokenward.auth.principal import Principal
from tokenward.policy import Requirement, Role

router = APIRouter(prefix="/api/0/organizations", tags=["organizations"])


def settings_need_owner_session(requirement: Requirement, body: Any) -> Requirement:
    """Changing security settings is for owners, from a browser session. A change of settings
    alone is break-glass: an owner's password session reaches it while SSO is required."""
    if isinstance(body, dict) and body.get("settings") is not None:
        return requirement.tightened(
            session_only=True, minimum_role=Role.OWNER, sso_break_glass=set(body) == {"settings"}
        )
    return requirement


@router.get("/", response_model=list[OrganizationOut], responses=errors(*AUTHENTICATED))
async def list_organizations(
    response: Response,
    principal: Principal = user_level(allow_organization_token=True),
    db: AsyncSession = Depends(database),
) -> list[OrganizationOut]:
    sso_hidden: list[str] = []
    visible = await visible_organizations(db, principal, sso_hidden)
    if sso_hidden:
        response.headers[SSO_HEADER] = "partial-results; organizations=" + ",".join(sso_hidden)
    return [organization_out(org, role) for org, role in visible]


@router.post(
    "/",
    status_code=201,
    response_model=OrganizationOut,
    responses=errors(400, 409, *AUTHENTICATED),
    openapi_extra=body_schema(OrganizationCreate),
)
async def create(
    request: Request,
    principal: Principal = user_level(),
    db: AsyncSession = Depends(database),
) -> OrganizationOut:
    body = await parse_body(request, OrganizationCreate)
    organization = await create_organization(
        db, principal, slug=body.slug, name=body.name, ip_address=client_ip(request)
    )
    return organization_out(organization, Role.OWNER)


@router.get("/{org}/", response_model=OrganizationOut, responses=errors(*GATED))
async def read(context: OrganizationContext = organization_access("org:read")) -> OrganizationOut:
    return organization_out(context.organization, context.role)


@router.put(
    "/{org}/",
    response_model=OrganizationOut,
    responses=errors(400, *GATED),
    openapi_extra=body_schema(OrganizationUpdate),
)
async def update(
    request: Request,
    context: OrganizationContext = organization_access(
        "org:write", refine=settings_need_owner_session
    ),
) -> OrganizationOut:
    body = await parse_body(request, OrganizationUpdate)
    settings = body.settings.model_dump(exclude_unset=True) if body.settings else {}
    organization = await update_organization(
        context,
        name=body.name,
        settings=settings,
        base_url=request.app.state.settings.base_url,
        notice_delay_seconds=request.app.state.settings.notice_delay_seconds,
    )
    return organization_out(organization, context.role)
