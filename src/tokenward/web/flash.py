"""One-shot messages across a redirect (post, redirect, get), in a short-lived signed cookie.

Messages are plain sentences about what just happened; they never hold a secret.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse

from tokenward.http.signed_cookies import read_signed_cookie, set_signed_cookie

__all__ = ["FLASH_COOKIE", "redirect_with_flash", "take_flash"]

FLASH_COOKIE = "tokenward_flash"
_SALT = "tokenward.flash"
_MAX_AGE_SECONDS = 60


def redirect_with_flash(request: Request, url: str, message: str | None) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if message:
        set_signed_cookie(
            request, response, FLASH_COOKIE, message, salt=_SALT, max_age=_MAX_AGE_SECONDS
        )
    return response


def take_flash(request: Request) -> str | None:
    return read_signed_cookie(request, FLASH_COOKIE, salt=_SALT, max_age=_MAX_AGE_SECONDS)
