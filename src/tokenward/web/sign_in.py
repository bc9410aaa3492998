"""Signing in and out from the browser; the session cookie is the one the API reads."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, TimestampSigner
from starlette.datastructures import FormData

from tokenward.actions.accounts import end_session, normalize_email, start_session, user_id_of
from tokenward.auth.access import BrowserUser, public
from tokenward.auth.caller import client_ip
from tokenward.auth.database import Database
from tokenward.auth.form_csrf import PostedForm
from tokenward.auth.session_cookie import clear_session_cookie, set_session_cookie
from tokenward.errors import ApiError
from tokenward.http.security_headers import allow_forms_to_identity_providers
from tokenward.request_bodies import LoginRequest
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
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


_SECOND_STEP_SECONDS = 300


def _second_step_signer(request: Request) -> TimestampSigner:
    secret = request.app.state.settings.secret_key
    return TimestampSigner(secret, salt="tokenward.login-second-step")


def _password_checked(request: Request, email: str) -> str:
    """Proof, for the code step, that this browser just gave ``email``'s right password."""
    signed = _second_step_signer(request).sign(normalize_email(email))
    return signed.decode("ascii")


def _checked_email(request: Request, proof: str) -> str | None:
    try:
        value = _second_step_signer(request).unsign(proof, max_age=_SECOND_STEP_SECONDS)
    except BadSignature:
        return None
    return value.decode()


def _login_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    proof: str | None = None,
    status: int,
) -> HTMLResponse:
    """The form; with ``proof`` it is the second step, asking only for the code."""
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
            "proof": proof,
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
async def login(request: Request, db: Database) -> Response:
    form: FormData = await request.form()
    email, next_path = text(form, "email"), _safe_next(text(form, "next"))
    if not login_token_matches(request, text(form, "login_token")):
        message = "The sign-in form expired. Please try again."
        return _login_page(request, next_path=next_path, email=email, error=message, status=403)
    code = text(form, "code").strip() or None
    proof = text(form, "password_checked") or None
    checked_email = _checked_email(request, proof) if proof else None
    if proof and checked_email != normalize_email(email):
        message = "The sign-in took too long. Please enter your password again."
        return _login_page(request, next_path=next_path, email=email, error=message, status=401)
    try:
        if checked_email is None:
            body = validated(
                LoginRequest, {"email": email, "password": text(form, "password"), "code": code}
            )
            password, code = body.password, body.code
        else:
            password = ""
        settings = request.app.state.settings
        proven = await user_id_of(db, checked_email) if checked_email else None
        _, key = await start_session(
            db,
            request.app.state.cookies,
            email=email,
            password=password,
            max_age=dt.timedelta(seconds=settings.session_max_age_seconds),
            ip_address=client_ip(request),
            throttle=request.app.state.login_throttle,
            code=code,
            password_checked_for=proven,
        )
    except ApiError as error:
        if error.code == "2fa-code-required" or (proof and error.code == "invalid-2fa-code"):
            # The password was right: the code is a second step, not an error.
            wrong = "That code is not correct. Try the newest one." if proof else None
            return _login_page(
                request,
                next_path=next_path,
                email=email,
                error=wrong,
                proof=proof or _password_checked(request, email),
                status=error.status if wrong else 200,
            )
        message = error.message
        if error.code == "invalid-request":
            message = "Enter your email and password."
        return _login_page(
            request, next_path=next_path, email=email, error=message, status=error.status
        )
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(request, response, key)
    return response


@router.post("/logout/", response_model=None)
async def logout(
    request: Request,
    form: PostedForm,
    principal: BrowserUser,
    db: Database,
) -> Response:
    assert principal.session_key_hash is not None
    await end_session(db, principal.session_key_hash)
    response = redirect_with_flash(request, "/login/", "You have signed out.")
    clear_session_cookie(request, response)
    return response
