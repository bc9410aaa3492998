"""Sign in and out with email and password; the session cookie and its CSRF token."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response

from tokenward.actions.accounts import end_session, start_session
from tokenward.api.bodies import body_schema, parse_body, require_json_content_type
from tokenward.api.caching import NO_STORE
from tokenward.api.docs import AUTHENTICATED, errors
from tokenward.api.presenters import user_out
from tokenward.api.schemas import LoginOut, UserOut
from tokenward.auth.access import BrowserUser, public
from tokenward.auth.caller import client_ip
from tokenward.auth.database import Database
from tokenward.auth.session_cookie import clear_session_cookie, set_session_cookie
from tokenward.auth.sessions import SessionCookies
from tokenward.config import Settings
from tokenward.request_bodies import LoginRequest

router = APIRouter(prefix="/api/0/auth", tags=["auth"])


@router.post(
    "/login/",
    response_model=LoginOut,
    responses=errors(400, 401, 429),
    openapi_extra=body_schema(LoginRequest),
    dependencies=[public(), NO_STORE],
)
async def login(request: Request, response: Response, db: Database) -> LoginOut:
    require_json_content_type(request)
    body = await parse_body(request, LoginRequest)
    settings: Settings = request.app.state.settings
    cookies: SessionCookies = request.app.state.cookies
    user, key = await start_session(
        db,
        cookies,
        email=body.email,
        password=body.password,
        max_age=dt.timedelta(seconds=settings.session_max_age_seconds),
        ip_address=client_ip(request),
        throttle=request.app.state.login_throttle,
        code=body.code,
    )
    set_session_cookie(request, response, key)
    return LoginOut(user=user_out(user), csrf_token=cookies.csrf_token(key))


@router.get(
    "/session/",
    response_model=LoginOut,
    responses=errors(*AUTHENTICATED),
    dependencies=[NO_STORE],
)
async def current_session(principal: BrowserUser) -> LoginOut:
    """The signed-in user and the session's CSRF token (for pages that call the API)."""
    assert principal.user is not None and principal.csrf_token is not None
    user = principal.user
    return LoginOut(
        user=UserOut(id=str(user.id), email=user.email, name=user.name),
        csrf_token=principal.csrf_token,
    )


@router.post("/logout/", status_code=204, responses=errors(*AUTHENTICATED))
async def logout(
    request: Request,
    principal: BrowserUser,
    db: Database,
) -> Response:
    assert principal.session_key_hash is not None
    await end_session(db, principal.session_key_hash)
    response = Response(status_code=204)
    clear_session_cookie(request, response)
    return response
