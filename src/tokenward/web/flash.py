"""One-shot messages across a redirect (post, redirect, get), in a short-lived signed cookie.

Messages are plain sentences about what just happened; they never hold a secret.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["FLASH_COOKIE", "redirect_with_flash", "take_flash"]

FLASH_COOKIE = "tokenward_flash"
_MAX_AGE_SECONDS = 60


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="tokenward.flash")


def redirect_with_flash(request: Request, url: str, message: str | None) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(
            FLASH_COOKIE,
            _serializer(request).dumps(message),
            max_age=_MAX_AGE_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.cookie_secure or request.url.scheme == "https",
        )
    return response


def take_flash(request: Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        message = _serializer(request).loads(raw, max_age=_MAX_AGE_SECONDS)
    except BadSignature:
        return None
    return message if isinstance(message, str) else None
