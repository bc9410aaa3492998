"""Signing in through an organization's identity provider, from the browser: the redirect to the
provider (``/auth/login/{org}/``), the callback, and the sign-in page's "Sign in with SSO"."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tokenward.actions.invitations import InvitationUnusable
from tokenward.actions.sso_sign_in import (
    ATTEMPT_LIFETIME,
    SignedIn,
    SignInFailed,
    finish_sign_in,
    start_sign_in,
)
from tokenward.auth.access import public
from tokenward.auth.caller import client_ip
from tokenward.auth.session_cookie import set_session_cookie
from tokenward.config import Settings
from tokenward.http.signed_cookies import cookie_is_secure
from tokenward.sso_urls import ACCEPT_INVITATION_PATH, CALLBACK_PATH, redirect_uri
from tokenward.store.ids import parse_id
from tokenward.store.tables import SLUG_PATTERN
from tokenward.web.error_pages import login_url
from tokenward.web.flash import redirect_with_flash
from tokenward.web.invitation_sso import forget_invitation, invitation_in_cookie
from tokenward.web.invitations import unusable_page
from tokenward.web.templating import render, session_principal

router = APIRouter(include_in_schema=False)

STATE_COOKIE = "tokenward_sso_state"
_SLUG = re.compile(SLUG_PATTERN)
_MAX_STATE_LENGTH = 200


def _safe_next(value: str | None) -> str | None:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:500]
    return None


def _failure_page(request: Request, failure: SignInFailed) -> HTMLResponse:
    title = (
        "The identity provider cannot be reached"
        if failure.provider_down
        else "Signing in through SSO did not work"
    )
    return render(
        request,
        "error.html",
        {"status": failure.status, "title": title, "message": failure.message, "code": "sso"},
        status_code=failure.status,
    )


@router.get("/auth/login/{org}/", dependencies=[public()], response_model=None)
async def begin(
    request: Request, org: str, next: str | None = None, token: str | None = None
) -> Response:
    """Send the browser to the organization's identity provider (code flow, state, nonce, PKCE).

    With ``token``, the same flow authorizes that personal token of the signed-in user.
    """
    principal = session_principal(request)
    if token is not None and principal is None:
        back = f"/auth/login/{quote(org)}/?token={quote(token)}"
        return RedirectResponse(login_url(back), status_code=303)
    token_id = parse_id(token) if token is not None else None
    try:
        if not _SLUG.fullmatch(org):
            raise SignInFailed(f"There is no SSO sign-in for the organization '{org}'.", 404)
        if token is not None and token_id is None:
            raise SignInFailed("You have no such personal token.", 404)
        started = await start_sign_in(
            request.app.state.store,
            org,
            redirect_uri=redirect_uri(request),
            next_path=_safe_next(next),
            token_id=token_id,
            principal=principal,
            ip_address=client_ip(request),
        )
    except SignInFailed as failure:
        return _failure_page(request, failure)
    response = RedirectResponse(started.url, status_code=303)
    # Binds the sign-in to this browser: a callback carrying someone else's state is refused.
    response.set_cookie(
        STATE_COOKIE,
        started.state,
        max_age=int(ATTEMPT_LIFETIME.total_seconds()),
        path=CALLBACK_PATH,
        httponly=True,
        samesite="lax",
        secure=cookie_is_secure(request),
    )
    return response


def _welcome(signed_in: SignedIn) -> str:
    slug = signed_in.organization_slug
    if signed_in.authorized_token is not None:
        return f"Your personal token “{signed_in.authorized_token}” is now authorized for {slug}."
    if signed_in.provisioned:
        return f"Welcome! Your account was created by signing in through {slug}'s SSO."
    if signed_in.linked:
        return (
            f"Your account is now linked to {slug}'s identity provider: from now on you can "
            "sign in through SSO as well as with your password."
        )
    return f"Signed in through {slug}'s SSO."


@router.get(CALLBACK_PATH, dependencies=[public()], response_model=None)
async def callback(
    request: Request,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> Response:
    """Finish the sign-in the identity provider sent back. Each state works once."""
    expected = request.cookies.get(STATE_COOKIE)
    try:
        if (
            not state
            or not expected
            or len(state) > _MAX_STATE_LENGTH
            or not state.isascii()
            or not expected.isascii()
            or not hmac.compare_digest(state, expected)
        ):
            raise SignInFailed(
                "This sign-in did not start in this browser (its state does not match). "
                "Start the sign-in again; nothing was changed."
            )
        settings: Settings = request.app.state.settings
        signed_in = await finish_sign_in(
            request.app.state.store,
            request.app.state.cookies,
            state=state,
            code=code[:2000] if code else None,
            provider_error=error[:100] if error else None,
            redirect_uri=redirect_uri(request),
            current=session_principal(request),
            max_age=dt.timedelta(seconds=settings.session_max_age_seconds),
            ip_address=client_ip(request),
            invitation_key=invitation_in_cookie(request),
        )
    except (SignInFailed, InvitationUnusable) as failure:
        response: Response
        if isinstance(failure, SignInFailed):
            response = _failure_page(request, failure)
        else:  # the invitation this sign-in was for cannot be accepted; nothing was changed
            response = unusable_page(request, failure)
            forget_invitation(response)
        response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)
        return response
    target = signed_in.next_path or (
        "/settings/account/tokens/" if signed_in.authorized_token else "/organizations/"
    )
    # Accepting an invitation says its own welcome on the page it lands on.
    welcome = None if target == ACCEPT_INVITATION_PATH else _welcome(signed_in)
    response = redirect_with_flash(request, target, welcome)
    response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)
    if signed_in.session_key is not None:
        set_session_cookie(request, response, signed_in.session_key)
    return response


@router.get("/auth/sso/", dependencies=[public()], response_model=None)
async def by_organization(
    request: Request, organization: str = "", next: str | None = None, token: str | None = None
) -> Response:
    """The sign-in page's "Sign in with SSO" (and the tokens page's "Authorize through SSO"):
    the organization's slug, then its provider."""
    slug = organization.strip().lower()
    if not _SLUG.fullmatch(slug):
        return _failure_page(
            request,
            SignInFailed("Enter the short name (slug) of your organization, e.g. acme.", 400),
        )
    target = f"/auth/login/{slug}/"
    safe = _safe_next(next)
    token_id = parse_id(token) if token else None
    if token_id is not None:
        target += f"?token={token_id}"
    elif safe is not None:
        target += "?next=" + quote(safe, safe="/")
    return RedirectResponse(target, status_code=303)
