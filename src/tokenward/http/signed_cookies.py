"""Cookies the server sets for itself: whether they are Secure, and the short-lived signed ones
(a flash message, an invitation held across an SSO sign-in) that only this server can write."""

from __future__ import annotations

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["cookie_is_secure", "read_signed_cookie", "set_signed_cookie"]

# Larger than any cookie of ours; a longer one is not worth a signature check.
_LONGEST = 4096


def cookie_is_secure(request: Request) -> bool:
    """Secure when the operator says the site is behind https, or the request came over it."""
    return bool(request.app.state.settings.cookie_secure or request.url.scheme == "https")


def _serializer(request: Request, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt=salt)


def set_signed_cookie(
    request: Request, response: Response, name: str, value: str, *, salt: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        _serializer(request, salt).dumps(value),
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_is_secure(request),
    )


def read_signed_cookie(request: Request, name: str, *, salt: str, max_age: int) -> str | None:
    """The cookie's value, or None when it is missing, tampered with or older than ``max_age``."""
    raw = request.cookies.get(name)
    if not raw or len(raw) > _LONGEST:
        return None
    try:
        value = _serializer(request, salt).loads(raw, max_age=max_age)
    except BadSignature:  # also SignatureExpired
        return None
    return value if isinstance(value, str) else None
