"""Members of an organization: list, add by email with a role, change a role, remove."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tokenward.actions.invitations import (
    invitation_status,
    invite,
    pending_invitations_listed,
    resend_invitation,
    revoke_invitation,
)
from tokenward.actions.members import (
    add_member,
    change_role,
    find_member,
    has_account,
    members_listed,
    remove_member,
)
from tokenward.actions.scim_users import managed_user_ids
from tokenward.auth.access import BrowserMemberRead, BrowserMemberWrite
from tokenward.auth.form_csrf import PostedForm
from tokenward.auth.organization_context import OrganizationContext
from tokenward.errors import ApiError
from tokenward.invitation_sending import invitation_links, wake_outbox
from tokenward.policy import Role
from tokenward.request_bodies import MemberCreate, MemberUpdate
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    error_context,
    shown_on_form,
    status_for,
    text,
    validated,
)
from tokenward.web.layout import organization_page, organization_url

router = APIRouter(include_in_schema=False)

ROLES = [role.value for role in Role]
_SHOWN = 500


async def _page(
    request: Request,
    context: OrganizationContext,
    *,
    error: ApiError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    rows = await members_listed(context.db, context.admitted, limit=_SHOWN)
    invitations = await pending_invitations_listed(context.db, context.admitted, limit=_SHOWN)
    managed = await managed_user_ids(context.db, context.admitted)
    return organization_page(
        request,
        context,
        "organization_members.html",
        "members",
        {
            "members": [(membership, user) for membership, user in rows],
            "managed": managed,
            "invitations": [(item, invitation_status(item)) for item in invitations],
            "roles": ROLES,
            "can_manage": "member:write" in context.scopes,
            **error_context(error),
            "values": values or {"role": Role.MEMBER.value},
        },
        status_code=status_for(error),
    )


@router.get("/settings/{org}/members/")
async def members(
    request: Request,
    context: BrowserMemberRead,
) -> HTMLResponse:
    return await _page(request, context)


@router.post("/settings/{org}/members/", response_model=None)
async def add(
    request: Request,
    form: PostedForm,
    context: BrowserMemberWrite,
) -> Response:
    values = {"email": text(form, "email"), "role": text(form, "role")}
    try:
        body = validated(MemberCreate, values)
        if not await has_account(context.db, body.email):
            invitation = await invite(
                context, email=body.email, role=Role(body.role), links=invitation_links(request)
            )
            wake_outbox(request)
            message = f"Invitation sent to {invitation.email} to join as {body.role}."
        else:
            _, user = await add_member(context, email=body.email, role=Role(body.role))
            message = f"{user.email} added as {body.role}."
    except ApiError as error:
        return await _page(request, context, error=shown_on_form(error), values=values)
    return redirect_with_flash(request, organization_url(context, "members/"), message)


@router.post("/settings/{org}/invitations/{invitation_id}/resend/", response_model=None)
async def resend(
    request: Request,
    invitation_id: str,
    form: PostedForm,
    context: BrowserMemberWrite,
) -> Response:
    try:
        invitation = await resend_invitation(
            context, invitation_id, links=invitation_links(request)
        )
    except ApiError as error:
        return await _page(request, context, error=shown_on_form(error))
    wake_outbox(request)
    return redirect_with_flash(
        request,
        organization_url(context, "members/"),
        f"Invitation sent again to {invitation.email}.",
    )


@router.post("/settings/{org}/invitations/{invitation_id}/revoke/", response_model=None)
async def revoke(
    request: Request,
    invitation_id: str,
    form: PostedForm,
    context: BrowserMemberWrite,
) -> Response:
    try:
        invitation = await revoke_invitation(context, invitation_id)
    except ApiError as error:
        return await _page(request, context, error=shown_on_form(error))
    return redirect_with_flash(
        request,
        organization_url(context, "members/"),
        f"Invitation for {invitation.email} revoked; its link no longer works.",
    )


@router.post("/settings/{org}/members/{member_id}/role/", response_model=None)
async def set_role(
    request: Request,
    member_id: str,
    form: PostedForm,
    context: BrowserMemberWrite,
) -> Response:
    try:
        body = validated(MemberUpdate, {"role": text(form, "role")})
        _, user = await change_role(context, member_id, Role(body.role))
    except ApiError as error:
        return await _page(request, context, error=shown_on_form(error))
    return redirect_with_flash(
        request, organization_url(context, "members/"), f"{user.email} is now {body.role}."
    )


@router.post("/settings/{org}/members/{member_id}/remove/", response_model=None)
async def remove(
    request: Request,
    member_id: str,
    form: PostedForm,
    context: BrowserMemberWrite,
) -> Response:
    try:
        _, user = await find_member(context, member_id)
        await remove_member(context, member_id)
    except ApiError as error:
        return await _page(request, context, error=shown_on_form(error))
    caller = context.principal.user
    if caller is not None and caller.id == user.id:
        # Whoever removes themselves can no longer see this organization's pages.
        name = context.organization.name
        return redirect_with_flash(request, "/organizations/", f"You left {name}.")
    return redirect_with_flash(
        request, organization_url(context, "members/"), f"{user.email} removed."
    )
