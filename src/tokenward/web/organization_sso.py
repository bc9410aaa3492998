"""The organization's SSO page: the identity provider's settings, requiring SSO (with what it
stops shown first), and the personal tokens authorized through it. Same gate and actions as the
API; the settings are break-glass for owners while the provider is down."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tokenward.actions.organizations import update_organization
from tokenward.actions.sso_authorizations import authorizations_of, revoke_authorization
from tokenward.actions.sso_configuration import (
    ConfigurationInput,
    configuration_of,
    domains_of,
    save_configuration,
)
from tokenward.actions.sso_requirement import require_sso_impact
from tokenward.auth.access import (
    MANAGE_MEMBER_CREDENTIALS,
    BrowserMemberAdminAsManager,
    SecuritySettingsRead,
    SecuritySettingsWrite,
)
from tokenward.auth.admit import BREAK_GLASS_KEY
from tokenward.auth.form_csrf import PostedForm
from tokenward.auth.organization_context import OrganizationContext
from tokenward.errors import ApiError
from tokenward.policy import Role
from tokenward.request_bodies import SsoConfigurationUpdate
from tokenward.sso_urls import redirect_uri
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


async def _page(
    request: Request,
    context: OrganizationContext,
    *,
    error: ApiError | None = None,
    values: dict[str, Any] | None = None,
    confirming: bool = False,
) -> HTMLResponse:
    db, organization = context.db, context.organization
    configuration = await configuration_of(db, organization.id)
    is_owner = context.role is Role.OWNER
    impact = (
        await require_sso_impact(db, organization.id)
        if is_owner and not organization.require_sso and configuration is not None
        else None
    )
    authorizations = (
        await authorizations_of(context) if context.allows(MANAGE_MEMBER_CREDENTIALS) else None
    )
    current = values or {
        "issuer": configuration.issuer if configuration else "",
        "client_id": configuration.client_id if configuration else "",
        "allowed_domains": " ".join(domains_of(configuration)) if configuration else "",
        "auto_provision": configuration.auto_provision if configuration else False,
    }
    return organization_page(
        request,
        context,
        "organization_sso.html",
        "security",
        {
            "configuration": configuration,
            "values": current,
            "is_owner": is_owner,
            "redirect_uri": redirect_uri(request),
            "impact": impact,
            "confirming": confirming,
            "authorizations": authorizations,
            "signed_in_through_sso": str(organization.id)
            in context.principal.credential.sso_organizations,
            "break_glass": request.scope.get("state", {}).get(BREAK_GLASS_KEY, False),
            **error_context(error),
        },
        status_code=status_for(error),
    )


@router.get("/settings/{org}/sso/")
async def sso_page(
    request: Request,
    context: SecuritySettingsRead,
) -> HTMLResponse:
    return await _page(request, context)


def _domains(value: str) -> list[str]:
    return [d for d in re.split(r"[\s,]+", value.strip()) if d]


@router.post("/settings/{org}/sso/", response_model=None)
async def save(
    request: Request,
    form: PostedForm,
    context: SecuritySettingsWrite,
) -> Response:
    domains = text(form, "allowed_domains")
    values: dict[str, Any] = {
        "issuer": text(form, "issuer").strip(),
        "client_id": text(form, "client_id").strip(),
        "allowed_domains": domains,
        "auto_provision": text(form, "auto_provision") == "on",
    }
    try:
        body = validated(
            SsoConfigurationUpdate,
            {
                **values,
                "client_secret": text(form, "client_secret").strip() or None,
                "allowed_domains": _domains(domains),
            },
        )
        await save_configuration(
            context,
            ConfigurationInput(
                issuer=body.issuer,
                client_id=body.client_id,
                client_secret=body.client_secret,
                allowed_domains=list(dict.fromkeys(body.allowed_domains)),
                auto_provision=body.auto_provision,
            ),
        )
    except ApiError as error:
        return await _page(request, context, error=shown_on_form(error), values=values)
    return redirect_with_flash(
        request, organization_url(context, "sso/"), "Saved the SSO settings."
    )


@router.post("/settings/{org}/sso/require/", response_model=None)
async def require(
    request: Request,
    form: PostedForm,
    context: SecuritySettingsWrite,
) -> Response:
    wanted = text(form, "require_sso") == "on"
    if wanted and not context.organization.require_sso and text(form, "confirmed") != "yes":
        return await _page(request, context, confirming=True)
    try:
        await update_organization(
            context,
            name=None,
            settings={"require_sso": wanted},
            base_url=request.app.state.settings.base_url,
            notice_delay_seconds=request.app.state.settings.notice_delay_seconds,
        )
    except ApiError as error:
        return await _page(request, context, error=shown_on_form(error))
    message = (
        f"{context.organization.name} now requires SSO."
        if wanted
        else f"{context.organization.name} no longer requires SSO."
    )
    return redirect_with_flash(request, organization_url(context, "sso/"), message)


@router.post("/settings/{org}/sso/authorizations/{authorization_id}/revoke/", response_model=None)
async def revoke(
    request: Request,
    authorization_id: str,
    form: PostedForm,
    context: BrowserMemberAdminAsManager,
) -> Response:
    await revoke_authorization(context, authorization_id)
    return redirect_with_flash(
        request,
        organization_url(context, "sso/"),
        "Revoked: that personal token no longer works here until it is authorized again.",
    )
