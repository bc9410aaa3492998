"""The organization's security settings: whether members' personal API tokens may act on it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, or_, select
from starlette.datastructures import FormData

from tokenward.actions.members import members_of
from tokenward.actions.organizations import update_organization
from tokenward.auth.gate import OrganizationContext, organization_access, policy_of
from tokenward.policy import Requirement, Role, decide
from tokenward.store.tables import Membership, PersonalToken, User, utcnow
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import checked_form, text
from tokenward.web.layout import organization_page

router = APIRouter(include_in_schema=False)

# The API's rule for changing security settings (see api.organizations), asked of ``decide``.
CHANGE_SETTINGS = Requirement("org:write", session_only=True, minimum_role=Role.OWNER)


def can_change(context: OrganizationContext) -> bool:
    principal, organization = context.principal, context.organization
    return decide(
        principal.credential, policy_of(organization), context.role, CHANGE_SETTINGS
    ).allowed


async def _personal_tokens_at_stake(context: OrganizationContext) -> tuple[int, int]:
    """How many live personal tokens, held by how many members, act here today."""
    now = utcnow()
    query = (
        select(func.count(PersonalToken.id), func.count(func.distinct(PersonalToken.user_id)))
        .join(Membership, Membership.user_id == PersonalToken.user_id)
        .where(
            Membership.organization_id == context.organization.id,
            PersonalToken.revoked_at.is_(None),
            or_(PersonalToken.expires_at.is_(None), PersonalToken.expires_at > now),
        )
    )
    tokens, holders = (await context.db.execute(query)).one()
    return int(tokens), int(holders)


async def _page(
    request: Request, context: OrganizationContext, *, confirming: bool = False
) -> HTMLResponse:
    owners = (
        await context.db.execute(
            members_of(context.organization.id)
            .where(Membership.role == Role.OWNER.value)
            .order_by(User.email)
        )
    ).all()
    tokens, holders = await _personal_tokens_at_stake(context)
    return organization_page(
        request,
        context,
        "organization_security.html",
        "security",
        {
            "allowed": context.organization.allow_personal_tokens,
            "can_change": can_change(context),
            "owners": [user for _, user in owners],
            "tokens_at_stake": tokens,
            "holders_at_stake": holders,
            "confirming": confirming,
        },
    )


@router.get("/settings/{org}/security/")
async def security(
    request: Request,
    context: OrganizationContext = organization_access("org:read", session_only=True),
) -> HTMLResponse:
    return await _page(request, context)


@router.post("/settings/{org}/security/", response_model=None)
async def save(
    request: Request,
    form: FormData = Depends(checked_form),
    context: OrganizationContext = organization_access(
        "org:write", session_only=True, minimum_role=Role.OWNER
    ),
) -> Response:
    allow = text(form, "allow_personal_tokens") == "on"
    turning_off = context.organization.allow_personal_tokens and not allow
    if turning_off and text(form, "confirmed") != "yes":
        # Without the script's dialog, ask on the page before anything breaks.
        return await _page(request, context, confirming=True)
    await update_organization(context, name=None, settings={"allow_personal_tokens": allow})
    state = "allowed" if allow else "denied"
    return redirect_with_flash(
        request,
        f"/settings/{context.organization.slug}/security/",
        f"Saved. Personal API tokens are {state} in {context.organization.name}.",
    )
