"""An organization's members: list, add an existing user, change a role, remove."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from tokenward.actions.invitations import invite
from tokenward.actions.members import (
    add_member,
    change_role,
    has_account,
    members_of,
    remove_member,
)
from tokenward.api.bodies import body_schema, parse_body
from tokenward.api.docs import GATED, errors
from tokenward.api.invitations import InvitationOut, invitation_out
from tokenward.api.pagination import PageQuery, paginate
from tokenward.api.presenters import member_out
from tokenward.api.schemas import MemberOut
from tokenward.auth.access import MemberRead, MemberWrite, organization_access
from tokenward.auth.organization_context import OrganizationContext
from tokenward.invitation_sending import invitation_links, wake_outbox
from tokenward.policy import Requirement, Role, role_needed_to_manage
from tokenward.request_bodies import MemberCreate, MemberUpdate
from tokenward.store.tables import Membership

router = APIRouter(prefix="/api/0/organizations/{org}/members", tags=["members"])


def granting_owner_needs_owner(requirement: Requirement, body: Any) -> Requirement:
    """Only an owner may add or promote an owner; known from the body, checked before it."""
    role = body.get("role") if isinstance(body, dict) else None
    needed = role_needed_to_manage(None, Role.OWNER if role == Role.OWNER.value else None)
    return requirement.tightened(minimum_role=needed)


MemberGrant = Annotated[
    OrganizationContext, organization_access("member:write", refine=granting_owner_needs_owner)
]


@router.get("/", response_model=list[MemberOut], responses=errors(400, *GATED))
async def list_members(
    request: Request,
    response: Response,
    page: PageQuery,
    context: MemberRead,
) -> list[MemberOut]:
    query = members_of(context.admitted)
    rows = await paginate(context.db, query, Membership.id, page, request, response)
    return [member_out(membership, user) for membership, user in rows]


@router.post(
    "/",
    status_code=201,
    response_model=MemberOut | InvitationOut,
    responses=errors(400, 409, *GATED),
    openapi_extra=body_schema(MemberCreate),
)
async def add(
    request: Request,
    context: MemberGrant,
) -> MemberOut | InvitationOut:
    """An existing user becomes a member; an email without an account is invited."""
    body = await parse_body(request, MemberCreate)
    if not await has_account(context.db, body.email):
        invitation = await invite(
            context, email=body.email, role=Role(body.role), links=invitation_links(request)
        )
        wake_outbox(request)
        return invitation_out(invitation)
    membership, user = await add_member(context, email=body.email, role=Role(body.role))
    return member_out(membership, user)


@router.put(
    "/{member_id}/",
    response_model=MemberOut,
    responses=errors(400, 409, *GATED),
    openapi_extra=body_schema(MemberUpdate),
)
async def update(
    request: Request,
    member_id: str,
    context: MemberGrant,
) -> MemberOut:
    body = await parse_body(request, MemberUpdate)
    membership, user = await change_role(context, member_id, Role(body.role))
    return member_out(membership, user)


@router.delete("/{member_id}/", status_code=204, responses=errors(409, *GATED))
async def remove(
    member_id: str,
    context: MemberWrite,
) -> Response:
    await remove_member(context, member_id)
    return Response(status_code=204)
