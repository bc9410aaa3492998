"""The signed-in user's personal API tokens: list, create (the secret shown once), revoke."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from tokenward.actions.accounts import (
    mint_personal_token,
    personal_tokens_of,
    revoke_personal_token,
)
from tokenward.api.schemas import PersonalTokenCreate
from tokenward.auth.gate import database, user_level
from tokenward.auth.principal import Principal
from tokenward.errors import ApiError
from tokenward.http.security_headers import allow_forms_to_identity_providers
from tokenward.store.tables import PersonalToken
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    FORM_ERRORS,
    checked_form,
    error_context,
    status_for,
    text,
    texts,
    validated,
)
from tokenward.web.layout import SCOPES
from tokenward.web.templating import render

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
) -> HTMLResponse:
    query = personal_tokens_of(principal.user_id).order_by(PersonalToken.id.desc())
    tokens = (await db.scalars(query.limit(_SHOWN))).all()
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    allow_forms_to_identity_providers(request.scope)  # "Authorize through SSO"
    return render(
        request,
        "account_tokens.html",
        {
            "tokens": tokens,
            "shown_limit": _SHOWN,
            "scope_choices": SCOPES,
            "created": created,
            **error_context(error),
            "values": values or {"scopes": ["org:read", "project:read"]},
            "min_expiry": tomorrow.isoformat(),
        },
        status_code=status_for(error),
    )


@router.get(PAGE)
async def tokens(
    request: Request,
    principal: Principal = user_level(session_only=True),
    db: AsyncSession = Depends(database),
) -> HTMLResponse:
    return await _page(request, db, principal)


@router.post(PAGE, response_model=None)
async def create(
    request: Request,
    form: FormData = Depends(checked_form),
    principal: Principal = user_level(session_only=True),
    db: AsyncSession = Depends(database),
) -> Response:
    values: dict[str, object] = {
        "name": text(form, "name"),
        "scopes": texts(form, "scopes"),
        "expires_on": text(form, "expires_on"),
    }
    try:
        body = validated(
            PersonalTokenCreate,
            {
                "name": values["name"],
                "scopes": values["scopes"],
                "expires_at": expiry_from_date(text(form, "expires_on")),
            },
        )
        token, secret = await mint_personal_token(
            db, principal.user_id, name=body.name, scopes=body.scopes, expires_at=body.expires_at
        )
    except ApiError as error:
        if error.status not in FORM_ERRORS:
            raise
        return await _page(request, db, principal, error=error, values=values)
    return await _page(request, db, principal, created=(token, secret))


@router.post(PAGE + "{token_id}/revoke/", response_model=None)
async def revoke(
    request: Request,
    token_id: str,
    form: FormData = Depends(checked_form),
    principal: Principal = user_level(session_only=True),
    db: AsyncSession = Depends(database),
) -> Response:
    token = await revoke_personal_token(db, principal.user_id, token_id)
    return redirect_with_flash(request, PAGE, f"Token “{token.name}” revoked. It stopped working.")
