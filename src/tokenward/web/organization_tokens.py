"""Organization tokens: list, create (the secret shown once), revoke. Sessions only."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tokenward.actions.leaked_token_lists import leaked_organization_tokens
from tokenward.actions.organization_tokens import (
    mint_organization_token,
    organization_token_names,
    organization_tokens_listed,
    revoke_organization_token,
)
from tokenward.auth.access import BrowserOrgRead, BrowserOrgWrite
from tokenward.auth.form_csrf import PostedForm
from tokenward.auth.organization_context import OrganizationContext
from tokenward.errors import ApiError
from tokenward.policy import ROLE_SCOPES
from tokenward.request_bodies import OrganizationTokenCreate
from tokenward.store.tables import OrganizationToken
from tokenward.web.account_tokens import expiry_from_date
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    error_context,
    shown_on_form,
    status_for,
    text,
    validated,
)
from tokenward.web.layout import organization_page, organization_url
from tokenward.web.token_form import (
    EXPIRY_PRESETS,
    LEVEL_WORDS,
    RESOURCES,
    duplicate_name_error,
    expiry_from_form,
    expiry_preview,
    levels_of,
    scopes_from_form,
)

router = APIRouter(include_in_schema=False)

_SHOWN = 500


async def _page(
    request: Request,
    context: OrganizationContext,
    *,
    created: tuple[OrganizationToken, str] | None = None,
    error: ApiError | None = None,
    values: dict[str, object] | None = None,
) -> HTMLResponse:
    rows = await organization_tokens_listed(context.db, context.admitted, limit=_SHOWN)
    # A token may carry no more than its creator's role allows (the action checks it).
    grantable = ROLE_SCOPES[context.role] if context.role is not None else frozenset()
    today = dt.datetime.now(dt.UTC).date()
    shown = values or {"levels": {"project": "read"}, "expires_in": "90"}
    preset, expires_on = str(shown.get("expires_in", "90")), str(shown.get("expires_on", ""))
    if preset.isdigit():
        expires_on = (today + dt.timedelta(days=int(preset))).isoformat()
    return organization_page(
        request,
        context,
        "organization_tokens.html",
        "tokens",
        {
            "tokens": rows,
            "leaked": await leaked_organization_tokens(context.db, context.organization.id),
            "can_manage": "org:write" in context.scopes,
            "resources": RESOURCES,
            "level_words": LEVEL_WORDS,
            "grantable": grantable,
            "presets": EXPIRY_PRESETS,
            "expiry_preview": expiry_preview(preset, expires_on, today),
            "min_expiry": (today + dt.timedelta(days=1)).isoformat(),
            "created": created,
            **error_context(error),
            "values": shown,
        },
        status_code=status_for(error),
    )


@router.get("/settings/{org}/tokens/")
async def tokens(
    request: Request,
    context: BrowserOrgRead,
) -> HTMLResponse:
    return await _page(request, context)


@router.post("/settings/{org}/tokens/", response_model=None)
async def create(
    request: Request,
    form: PostedForm,
    context: BrowserOrgWrite,
) -> Response:
    today = dt.datetime.now(dt.UTC).date()
    preset, expires_on = expiry_from_form(form, today)
    grantable = ROLE_SCOPES[context.role] if context.role is not None else frozenset()
    values: dict[str, object] = {
        "name": text(form, "name"),
        "expires_in": preset,
        "expires_on": text(form, "expires_on") if preset == "custom" else "",
    }
    try:
        scopes = scopes_from_form(form, grantable)
        values["levels"] = levels_of(scopes)
        body = validated(
            OrganizationTokenCreate,
            {"name": values["name"], "scopes": scopes, "expires_at": expiry_from_date(expires_on)},
        )
        live = await organization_token_names(context.db, context.admitted)
        duplicate = duplicate_name_error(body.name, live)
        if duplicate is not None:
            raise duplicate
        token, _, secret = await mint_organization_token(
            context, name=body.name, scopes=body.scopes, expires_at=body.expires_at
        )
    except ApiError as error:
        return await _page(request, context, error=shown_on_form(error), values=values)
    return await _page(request, context, created=(token, secret))


@router.post("/settings/{org}/tokens/{token_id}/revoke/", response_model=None)
async def revoke(
    request: Request,
    token_id: str,
    form: PostedForm,
    context: BrowserOrgWrite,
) -> Response:
    await revoke_organization_token(context, token_id)
    return redirect_with_flash(
        request, organization_url(context, "tokens/"), "Token revoked. It stopped working."
    )
