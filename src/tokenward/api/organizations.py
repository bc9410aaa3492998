"""Organizations: list, create, read, rename, and the owner's security settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from tokenward.actions.organizations import (
    create_organization,
    update_organization,
    visible_organizations,
)
from tokenward.api.bodies import body_schema, parse_body
from tokenward.api.docs import AUTHENTICATED, GATED, errors
from tokenward.api.presenters import organization_out
from tokenward.api.schemas import OrganizationOut
from tokenward.auth.access import (
    OrgRead,
    SignedIn,
    UserOrOrganizationToken,
    organization_access,
)
from tokenward.auth.caller import client_ip
from tokenward.auth.database import Database
from tokenward.auth.decision_error import SSO_HEADER
from tokenward.auth.organization_context import OrganizationContext
from tokenward.policy import Requirement, Role
from tokenward.request_bodies import OrganizationCreate, OrganizationUpdate

router = APIRouter(prefix="/api/0/organizations", tags=["organizations"])


def settings_need_owner_session(requirement: Requirement, body: Any) -> Requirement:
    """Changing security settings is for owners, from a browser session. A change of settings
    alone is break-glass: an owner's password session reaches it while SSO is required."""
    if isinstance(body, dict) and body.get("settings") is not None:
        return requirement.tightened(
            session_only=True, minimum_role=Role.OWNER, sso_break_glass=set(body) == {"settings"}
        )
    return requirement


# Organization settings: owners from a session when the body touches security settings.
SettingsWrite = Annotated[
    OrganizationContext, organization_access("org:write", refine=settings_need_owner_session)
]


@router.get("/", response_model=list[OrganizationOut], responses=errors(*AUTHENTICATED))
async def list_organizations(
    response: Response,
    principal: UserOrOrganizationToken,
    db: Database,
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
    principal: SignedIn,
    db: Database,
) -> OrganizationOut:
    body = await parse_body(request, OrganizationCreate)
    organization = await create_organization(
        db, principal, slug=body.slug, name=body.name, ip_address=client_ip(request)
    )
    return organization_out(organization, Role.OWNER)


@router.get("/{org}/", response_model=OrganizationOut, responses=errors(*GATED))
async def read(context: OrgRead) -> OrganizationOut:
    return organization_out(context.organization, context.role)


@router.put(
    "/{org}/",
    response_model=OrganizationOut,
    responses=errors(400, *GATED),
    openapi_extra=body_schema(OrganizationUpdate),
)
async def update(
    request: Request,
    context: SettingsWrite,
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
