"""The signed-in user's personal API tokens: list, create (the secret shown once), revoke."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.accounts import (
    mint_personal_token,
    personal_token_names,
    personal_tokens_listed,
    revoke_personal_token,
)
from tokenward.actions.token_standing import OrganizationStanding, token_standings
from tokenward.auth.access import BrowserUser
from tokenward.auth.database import Database
from tokenward.auth.form_csrf import PostedForm
from tokenward.auth.principal import Principal
from tokenward.errors import ApiError
from tokenward.http.security_headers import allow_forms_to_identity_providers
from tokenward.policy import ALL_SCOPES
from tokenward.request_bodies import PersonalTokenCreate
from tokenward.store.tables import PersonalToken, utcnow
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    error_context,
    shown_on_form,
    status_for,
    text,
    validated,
)
from tokenward.web.standing_words import standing_phrase
from tokenward.web.templating import render
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

__all__ = ["expiry_from_date"]

router = APIRouter(include_in_schema=False)

PAGE = "/settings/account/tokens/"
_SHOWN = 100


def expiry_from_date(value: str) -> str | None:
    """A date picked in the form is the day the token stops working: it expires at 00:00 UTC
    that day, so "today + N days" fits an organization's N-day lifetime limit. Left as text on
    a bad date, so validation names the field."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return value
    return dt.datetime.combine(day, dt.time(), dt.UTC).isoformat()


async def _page(
    request: Request,
    db: AsyncSession,
    principal: Principal,
    *,
    created: tuple[PersonalToken, str] | None = None,
    error: ApiError | None = None,
    values: dict[str, object] | None = None,
    warnings: list[OrganizationStanding] | None = None,
) -> HTMLResponse:
    tokens = await personal_tokens_listed(db, principal.user_id, limit=_SHOWN)
    standings = await token_standings(db, principal.user_id, tokens)
    today = dt.datetime.now(dt.UTC).date()
    shown = values or {"levels": {"org": "read", "project": "read"}, "expires_in": "30"}
    preset, expires_on = str(shown.get("expires_in", "30")), str(shown.get("expires_on", ""))
    if preset.isdigit():
        expires_on = (today + dt.timedelta(days=int(preset))).isoformat()
    allow_forms_to_identity_providers(request.scope)  # "Authorize through SSO"
    return render(
        request,
        "account_tokens.html",
        {
            "tokens": tokens,
            "standings": standings,
            "phrase": standing_phrase,
            "warnings": warnings or [],
            "shown_limit": _SHOWN,
            "resources": RESOURCES,
            "level_words": LEVEL_WORDS,
            "grantable": ALL_SCOPES,
            "presets": EXPIRY_PRESETS,
            "expiry_preview": expiry_preview(preset, expires_on, today),
            "created": created,
            **error_context(error),
            "values": shown,
            "min_expiry": (today + dt.timedelta(days=1)).isoformat(),
        },
        status_code=status_for(error),
    )


async def _refusing(
    db: AsyncSession, user_id: int, body: PersonalTokenCreate
) -> list[OrganizationStanding]:
    """The organizations of the user that would refuse (or only report) the token asked for."""
    planned = PersonalToken(
        user_id=user_id,
        name=body.name,
        scopes=" ".join(sorted(body.scopes)),
        expires_at=body.expires_at,
        created_at=utcnow(),
        token_last_characters="",
    )
    found = (await token_standings(db, user_id, [planned]))[None]
    return [entry for entry in found if not entry.works or entry.would_be is not None]


@router.get(PAGE)
async def tokens(
    request: Request,
    principal: BrowserUser,
    db: Database,
) -> HTMLResponse:
    return await _page(request, db, principal)


@router.post(PAGE, response_model=None)
async def create(
    request: Request,
    form: PostedForm,
    principal: BrowserUser,
    db: Database,
) -> Response:
    today = dt.datetime.now(dt.UTC).date()
    preset, expires_on = expiry_from_form(form, today)
    try:
        scopes = scopes_from_form(form, ALL_SCOPES)
    except ApiError as error:
        return await _page(request, db, principal, error=error)
    values: dict[str, object] = {
        "name": text(form, "name"),
        "levels": levels_of(scopes),
        "expires_in": preset,
        "expires_on": text(form, "expires_on") if preset == "custom" else "",
    }
    try:
        body = validated(
            PersonalTokenCreate,
            {
                "name": values["name"],
                "scopes": scopes,
                "expires_at": expiry_from_date(expires_on),
            },
        )
        live = await personal_token_names(db, principal.user_id)
        duplicate = duplicate_name_error(body.name, live)
        if duplicate is not None:
            raise duplicate
        if text(form, "confirmed") != "yes":
            refusing = await _refusing(db, principal.user_id, body)
            if refusing:
                # Say where it will not work before minting it; "Create anyway" sends confirmed.
                return await _page(request, db, principal, values=values, warnings=refusing)
        token, secret = await mint_personal_token(
            db, principal.user_id, name=body.name, scopes=body.scopes, expires_at=body.expires_at
        )
    except ApiError as error:
        return await _page(request, db, principal, error=shown_on_form(error), values=values)
    return await _page(request, db, principal, created=(token, secret))


@router.post(PAGE + "{token_id}/revoke/", response_model=None)
async def revoke(
    request: Request,
    token_id: str,
    form: PostedForm,
    principal: BrowserUser,
    db: Database,
) -> Response:
    token = await revoke_personal_token(db, principal.user_id, token_id)
    return redirect_with_flash(request, PAGE, f"Token “{token.name}” revoked. It stopped working.")
