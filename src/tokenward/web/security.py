"""The organization's security settings: personal API tokens (allowed, report only, lifetime
limit) and required two-factor authentication, with their impact shown before they are saved."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from tokenward.actions.members import owners_of
from tokenward.actions.organization_rules import check_rules_change, personal_tokens_at_stake
from tokenward.actions.organizations import update_organization
from tokenward.actions.two_factor import has_two_factor
from tokenward.auth.access import (
    CHANGE_SECURITY_SETTINGS,
    SEE_MEMBER_CREDENTIALS,
    SecuritySettingsRead,
    SecuritySettingsWrite,
)
from tokenward.auth.admit import BREAK_GLASS_KEY
from tokenward.auth.form_csrf import PostedForm
from tokenward.auth.organization_context import OrganizationContext
from tokenward.auth.organization_policy import policy_of
from tokenward.errors import ApiError
from tokenward.policy import OrganizationPolicy
from tokenward.request_bodies import SettingsUpdate
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    error_context,
    shown_on_form,
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


async def _page(
    request: Request,
    context: OrganizationContext,
    *,
    proposal: OrganizationPolicy | None = None,
    values: RulesForm | None = None,
    error: ApiError | None = None,
) -> HTMLResponse:
    """The page; with a ``proposal`` it asks the owner to confirm that exact change."""
    owners = await owners_of(context.db, context.admitted)
    tokens, holders = await personal_tokens_at_stake(context.db, context.admitted)
    current = policy_of(context.organization)
    # Who used which token is for owners and managers, as in the API's usage report.
    impact = (
        await preview(context, proposal or default_proposal(current))
        if context.allows(SEE_MEMBER_CREDENTIALS)
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
            "can_change": context.allows(CHANGE_SECURITY_SETTINGS),
            "owners": owners,
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
    return user is not None and await has_two_factor(context.db, user.id)


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


@router.get("/settings/{org}/security/")
async def security(
    request: Request,
    context: SecuritySettingsRead,
) -> HTMLResponse:
    return await _page(request, context)


@router.post("/settings/{org}/security/", response_model=None)
async def save(
    request: Request,
    form: PostedForm,
    context: SecuritySettingsWrite,
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
        return await _page(request, context, values=sent, error=shown_on_form(error))
    return redirect_with_flash(
        request,
        f"/settings/{context.organization.slug}/security/",
        saved_message(current, proposal, context.organization.name, impact.members_to_notify),
    )
