"""The signed-in user's second factor: enrol a TOTP authenticator app, confirm it, remove it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from tokenward.actions.two_factor import (
    begin_enrolment,
    confirm_enrolment,
    organizations_requiring_2fa,
    pending_enrolment,
    remove_two_factor,
)
from tokenward.api.schemas import TwoFactorCode
from tokenward.api.two_factor import throttle_of
from tokenward.auth.gate import database, user_level
from tokenward.auth.principal import Principal
from tokenward.errors import ApiError
from tokenward.store.tables import User
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    FORM_ERRORS,
    checked_form,
    error_context,
    status_for,
    text,
    validated,
)
from tokenward.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/settings/account/security/"


async def _page(
    request: Request,
    db: AsyncSession,
    principal: Principal,
    *,
    error: ApiError | None = None,
    form: str = "",
) -> HTMLResponse:
    user = await db.get(User, principal.user_id)
    if user is None:
        raise ApiError.not_found()
    enrolment = await pending_enrolment(db, user.id)
    return render(
        request,
        "account_security.html",
        {
            "enabled": user.has_two_factor,
            "enrolment": enrolment,
            # Drawn by our own QR encoder from the secret: markup we made, not user input.
            "qr_svg": Markup(enrolment.qr_svg) if enrolment is not None else None,  # noqa: S704
            "requiring": await organizations_requiring_2fa(db, user.id),
            **error_context(error),
            "failed_form": form,
        },
        status_code=status_for(error),
    )


@router.get(PAGE)
async def security(
    request: Request,
    principal: Principal = user_level(session_only=True),
    db: AsyncSession = Depends(database),
) -> HTMLResponse:
    return await _page(request, db, principal)


@router.post(PAGE + "setup/", response_model=None)
async def setup(
    request: Request,
    form: FormData = Depends(checked_form),
    principal: Principal = user_level(session_only=True),
    db: AsyncSession = Depends(database),
) -> Response:
    try:
        await begin_enrolment(db, principal.user_id)
    except ApiError as error:
        if error.status not in FORM_ERRORS:
            raise
        return await _page(request, db, principal, error=error, form="setup")
    return redirect_with_flash(request, PAGE, None)


CodeAction = Callable[[AsyncSession, int, str], Awaitable[User]]


async def _with_code(
    request: Request,
    form: FormData,
    principal: Principal,
    db: AsyncSession,
    action: CodeAction,
    form_name: str,
    done: str,
) -> Response:
    """Run ``action`` with the code from the form; show the page again with its error if it
    refuses, else go back to the page with ``done``."""
    try:
        body = validated(TwoFactorCode, {"code": text(form, "code")})
        await throttle_of(request).check_code(
            principal.user_id, lambda: action(db, principal.user_id, body.code)
        )
    except ApiError as error:
        if error.status not in FORM_ERRORS and error.code != "rate-limited":
            raise
        page = await _page(request, db, principal, error=error, form=form_name)
        page.headers.update(error.headers or {})  # Retry-After
        return page
    return redirect_with_flash(request, PAGE, done)


@router.post(PAGE + "confirm/", response_model=None)
async def confirm(
    request: Request,
    form: FormData = Depends(checked_form),
    principal: Principal = user_level(session_only=True),
    db: AsyncSession = Depends(database),
) -> Response:
    done = "Two-factor authentication is on. Signing in now asks for a code from your app."
    return await _with_code(request, form, principal, db, confirm_enrolment, "confirm", done)


@router.post(PAGE + "remove/", response_model=None)
async def remove(
    request: Request,
    form: FormData = Depends(checked_form),
    principal: Principal = user_level(session_only=True),
    db: AsyncSession = Depends(database),
) -> Response:
    done = "Two-factor authentication is off."
    return await _with_code(request, form, principal, db, remove_two_factor, "remove", done)
