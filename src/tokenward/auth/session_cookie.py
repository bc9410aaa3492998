"""Setting and clearing the browser's session cookie on a response (sign-in, sign-out)."""

from __future__ import annotations

from fastapi import Request, Response

from tokenward.auth.sessions import COOKIE_NAME, SessionCookies
from tokenward.config import Settings
from tokenward.http.signed_cookies import cookie_is_secure

__all__ = ["clear_session_cookie", "set_session_cookie"]


def set_session_cookie(request: Request, response: Response, key: str) -> None:
    settings: Settings = request.app.state.settings
    cookies: SessionCookies = request.app.state.cookies
    response.set_cookie(
        COOKIE_NAME,
        cookies.cookie_value(key),
        max_age=settings.session_max_age_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_is_secure(request),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_is_secure(request),
    )
