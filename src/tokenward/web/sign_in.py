"""Signing in and out from the browser; the session cookie is the one the API reads."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from tokenward.actions.accounts import end_session, start_session
from tokenward.api.auth import clear_session_cookie, set_session_cookie
from tokenward.api.schemas import LoginRequest
from tokenward.auth.gate import client_ip, database, public, user_level
from tokenward.auth.principal import Principal
from tokenward.errors import ApiError
from tokenward.http.security_headers import allow_forms_to_identity_providers
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    checked_form,
    issue_login_token,
    login_token_matches,
    set_login_nonce,
    text,
    validated,
)
from tokenward.web.templating import render, session_principal

router = APIRouter(include_in_schema=False)

HOME = "/organizations/"


def _safe_next(value: str | None) -> str:
    """Only a path on this site, so the sign-in page cannot bounce anyone elsewhere."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return HOME


# Sign-in refusals that mean "now the authenticator code too", not "wrong password".
_ASK_FOR_CODE = frozenset({"2fa-code-required", "invalid-2fa-code"})


def _login_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    ask_code: bool = False,
    status: int,
) -> HTMLResponse:
    nonce, signed = issue_login_token(request)
    allow_forms_to_identity_providers(request.scope)  # "Sign in with SSO"
    response = render(
        request,
        "login.html",
        {
            "login_token": signed,
            "next": next_path,
            "email": email,
            "error": error,
            "ask_code": ask_code,
        },
        status_code=status,
    )
    set_login_nonce(request, response, nonce)
    return response


@router.get("/", dependencies=[public()])
async def home(request: Request) -> RedirectResponse:
    return RedirectResponse(HOME if session_principal(request) else "/login/", status_code=303)


@router.get("/login/", dependencies=[public()], response_model=None)
async def login_form(request: Request, next: str | None = None) -> Response:
    if session_principal(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next_path=_safe_next(next), status=200)


@router.post("/login/", dependencies=[public()], response_model=None)
async def login(request: Request, db: AsyncSession = Depends(database)) -> Response:
    form: FormData = await request.form()
    email, next_path = text(form, "email"), _safe_next(text(form, "next"))
    if not login_token_matches(request, text(form, "login_token")):
        message = "The sign-in form expired. Please try again."
        return _login_page(request, next_path=next_path, email=email, error=message, status=403)
    code = text(form, "code").strip() or None
    try:
        body = validated(
            LoginRequest, {"email": email, "password": text(form, "password"), "code": code}
        )
        settings = request.app.state.settings
        _, key = await start_session(
            db,
            request.app.state.cookies,
            email=body.email,
            password=body.password,
            max_age=dt.timedelta(seconds=settings.session_max_age_seconds),
            ip_address=client_ip(request),
            throttle=request.app.state.login_throttle,
            code=body.code,
        )
    except ApiError as error:
        ask_code = error.code in _ASK_FOR_CODE or code is not None
        message = error.message
        if error.code == "invalid-request":
            message = "Enter your email and password."
        elif error.code == "2fa-code-required":
            message = "Two-factor authentication is on: enter your password again, with the code "
            message += "from your authenticator app."
        return _login_page(
            request,
            next_path=next_path,
            email=email,
            error=message,
            ask_code=ask_code,
            status=error.status,
        )
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(request, response, key)
    return response


@router.post("/logout/", response_model=None)
async def logout(
    request: Request,
    form: FormData = Depends(checked_form),
    principal: Principal = user_level(session_only=True),
    db: AsyncSession = Depends(database),
) -> Response:
    assert principal.session_key_hash is not None
    await end_session(db, principal.session_key_hash)
    response = redirect_with_flash(request, "/login/", "You have signed out.")
    clear_session_cookie(request, response)
    return response
