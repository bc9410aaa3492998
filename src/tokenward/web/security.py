"""The organization's security settings: personal API tokens (allowed, report only, lifetime
limit) and required two-factor authentication, with their impact shown before they are saved."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, or_, select
from starlette.datastructures import FormData

from tokenward.actions.members import members_of
from tokenward.actions.organization_rules import check_rules_change
from tokenward.actions.organizations import update_organization
from tokenward.api.schemas import SettingsUpdate
from tokenward.auth.gate import (
    BREAK_GLASS_KEY,
    OrganizationContext,
    organization_access,
    policy_of,
)
from tokenward.errors import ApiError
from tokenward.policy import OrganizationPolicy, Requirement, Role, decide
from tokenward.store.tables import Membership, PersonalToken, User, utcnow
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    FORM_ERRORS,
    checked_form,
    error_context,
    status_for,
    text,
    validated,
)
from tokenward.web.layout import STANDING_WORDS, organization_page
from tokenward.web.rules_preview import (
    WINDOW_DAYS,
    RulesForm,
    default_proposal,
    preview,
    proposal_from,
)
from tokenward.web.rules_words import (
    MODES,
    consequences,
    mode_of,
    saved_message,
    settings_for_mode,
)

router = APIRouter(include_in_schema=False)

# The API's rule for changing security settings (see api.organizations), asked of ``decide``.
CHANGE_SETTINGS = Requirement(
    "org:write", session_only=True, minimum_role=Role.OWNER, sso_break_glass=True
)


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
    request: Request,
    context: OrganizationContext,
    *,
    proposal: OrganizationPolicy | None = None,
    values: RulesForm | None = None,
    error: ApiError | None = None,
) -> HTMLResponse:
    """The page; with a ``proposal`` it asks the owner to confirm that exact change."""
    owners = (
        await context.db.execute(
            members_of(context.admitted)
            .where(Membership.role == Role.OWNER.value)
            .order_by(User.email)
        )
    ).all()
    tokens, holders = await _personal_tokens_at_stake(context)
    current = policy_of(context.organization)
    # Who used which token is for owners and managers, as in the API's usage report.
    impact = (
        await preview(context, proposal or default_proposal(current))
        if context.allows(SEES_USAGE)
        else None
    )
    dialog = None
    if impact is not None and impact.proposal != current:
        dialog = consequences(
            current,
            impact.proposal,
            name=context.organization.name,
            tokens_at_stake=tokens,
            holders_at_stake=holders,
            affected_tokens=impact.affected_tokens,
            affected_members=impact.affected_members,
            members_to_notify=impact.members_to_notify,
            without_2fa=[user.name or user.email for user in impact.members_without_2fa],
            window_days=WINDOW_DAYS,
        )
    return organization_page(
        request,
        context,
        "organization_security.html",
        "security",
        {
            "allowed": context.organization.allow_personal_tokens,
            "current": current,
            "mode": mode_of(current),
            "modes": MODES,
            "dialog": dialog,
            "has_two_factor": await _has_two_factor(context),
            "can_change": can_change(context),
            "owners": [user for _, user in owners],
            "tokens_at_stake": tokens,
            "holders_at_stake": holders,
            "confirming": proposal is not None,
            "impact": impact,
            "window_days": WINDOW_DAYS,
            "standing_words": STANDING_WORDS,
            "values": values or RulesForm.of(proposal or current),
            "break_glass": request.scope.get("state", {}).get(BREAK_GLASS_KEY, False),
            **error_context(error, prefix="settings."),
        },
        status_code=status_for(error),
    )


async def _has_two_factor(context: OrganizationContext) -> bool:
    user = context.principal.user
    found = await context.db.get(User, user.id) if user is not None else None
    return found is not None and found.has_two_factor


def _submitted(form: FormData, context: OrganizationContext) -> dict[str, Any]:
    """The form as the API's ``settings`` body; a field the form did not send stays as it is."""
    current = policy_of(context.organization)
    mode = text(form, "personal_tokens") or mode_of(current)
    if mode not in MODES:
        raise ApiError.invalid("settings.personal_tokens", "must be allowed, report or denied")
    settings: dict[str, Any] = {
        **settings_for_mode(mode, current),
        "require_2fa": text(form, "require_2fa") == "on",
    }
    if "personal_token_max_lifetime_days" in form:
        settings["personal_token_max_lifetime_days"] = (
            text(form, "personal_token_max_lifetime_days").strip() or None
        )
    else:
        settings["personal_token_max_lifetime_days"] = current.personal_token_max_lifetime_days
    return settings


SEES_USAGE = Requirement("member:admin", minimum_role=Role.MANAGER)


@router.get("/settings/{org}/security/")
async def security(
    request: Request,
    context: OrganizationContext = organization_access(
        "org:read", session_only=True, sso_break_glass=True
    ),
) -> HTMLResponse:
    return await _page(request, context)


@router.post("/settings/{org}/security/", response_model=None)
async def save(
    request: Request,
    form: FormData = Depends(checked_form),
    context: OrganizationContext = organization_access(
        "org:write", session_only=True, minimum_role=Role.OWNER, sso_break_glass=True
    ),
) -> Response:
    sent = RulesForm(
        text(form, "personal_tokens") or mode_of(policy_of(context.organization)),
        text(form, "personal_token_max_lifetime_days"),
        text(form, "require_2fa") == "on",
    )
    try:
        submitted = _submitted(form, context)
        settings = validated(SettingsUpdate, submitted).model_dump(exclude_unset=True)
        await check_rules_change(context, settings)  # refuse before asking to confirm
        current = policy_of(context.organization)
        proposal = proposal_from(current, settings)
        impact = await preview(context, proposal)
        if impact.tightens and text(form, "confirmed") != "yes":
            # Show whom it stops and how many people are emailed, then ask (works without script).
            return await _page(request, context, proposal=proposal, values=sent)
        await update_organization(
            context,
            name=None,
            settings=settings,
            base_url=request.app.state.settings.base_url,
            notice_delay_seconds=request.app.state.settings.notice_delay_seconds,
        )
    except ApiError as error:
        if error.status not in FORM_ERRORS:
            raise
        return await _page(request, context, values=sent, error=error)
    return redirect_with_flash(
        request,
        f"/settings/{context.organization.slug}/security/",
        saved_message(current, proposal, context.organization.name, impact.members_to_notify),
    )
