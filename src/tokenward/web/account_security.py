"""The signed-in user's second factor: enrol a TOTP authenticator app, confirm it, remove it."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from tokenward.actions.recovery_codes import new_recovery_codes, recovery_codes_left
from tokenward.actions.two_factor import (
    begin_enrolment,
    confirm_enrolment,
    organizations_requiring_2fa,
    pending_enrolment,
    remove_two_factor,
)
from tokenward.auth.access import BrowserUser
from tokenward.auth.database import Database
from tokenward.auth.form_csrf import PostedForm
from tokenward.auth.login_throttle import throttle_of
from tokenward.auth.principal import Principal
from tokenward.errors import ApiError
from tokenward.request_bodies import TwoFactorCode
from tokenward.store.tables import User
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    error_context,
    shown_on_form,
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
    recovery_codes: list[str] | None = None,
    done: str | None = None,
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
            "recovery_codes": recovery_codes,
            "codes_left": await recovery_codes_left(db, user.id) if user.has_two_factor else 0,
            "done": done,
        },
        status_code=status_for(error),
    )


@router.get(PAGE)
async def security(
    request: Request,
    principal: BrowserUser,
    db: Database,
) -> HTMLResponse:
    return await _page(request, db, principal)


@router.post(PAGE + "setup/", response_model=None)
async def setup(
    request: Request,
    form: PostedForm,
    principal: BrowserUser,
    db: Database,
) -> Response:
    try:
        await begin_enrolment(db, principal.user_id)
    except ApiError as error:
        return await _page(request, db, principal, error=shown_on_form(error), form="setup")
    return redirect_with_flash(request, PAGE, None)


CodeAction = Callable[[AsyncSession, int, str], Awaitable[User]]


async def _code_refused(
    request: Request,
    form: FormData,
    principal: Principal,
    db: AsyncSession,
    action: CodeAction,
    form_name: str,
) -> Response | None:
    """Run ``action`` with the code from the form, counted against the per-user limit; the page
    again with its error if it refuses, else None."""
    try:
        body = validated(TwoFactorCode, {"code": text(form, "code")})
        await throttle_of(request).check_code(
            principal.user_id, lambda: action(db, principal.user_id, body.code)
        )
    except ApiError as error:
        error = shown_on_form(error, "rate-limited")
        page = await _page(request, db, principal, error=error, form=form_name)
        page.headers.update(error.headers or {})  # Retry-After
        return page
    return None


@router.post(PAGE + "confirm/", response_model=None)
async def confirm(
    request: Request,
    form: PostedForm,
    principal: BrowserUser,
    db: Database,
) -> Response:
    this_session = functools.partial(confirm_enrolment, session_key_hash=principal.session_key_hash)
    refused = await _code_refused(request, form, principal, db, this_session, "confirm")
    if refused is not None:
        return refused
    codes = await new_recovery_codes(db, principal.user_id)
    done = "Two-factor authentication is on. Signing in now asks for a code from your app."
    return await _page(request, db, principal, recovery_codes=codes, done=done)


@router.post(PAGE + "recovery-codes/", response_model=None)
async def regenerate_recovery_codes(
    request: Request,
    form: PostedForm,
    principal: BrowserUser,
    db: Database,
) -> Response:
    user = await db.get(User, principal.user_id)
    if user is None or not user.has_two_factor:
        return redirect_with_flash(request, PAGE, None)
    codes = await new_recovery_codes(db, user.id)
    done = "New recovery codes made. The old ones no longer work."
    return await _page(request, db, principal, recovery_codes=codes, done=done)


@router.post(PAGE + "remove/", response_model=None)
async def remove(
    request: Request,
    form: PostedForm,
    principal: BrowserUser,
    db: Database,
) -> Response:
    refused = await _code_refused(request, form, principal, db, remove_two_factor, "remove")
    return refused or redirect_with_flash(request, PAGE, "Two-factor authentication is off.")
