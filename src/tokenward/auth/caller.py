"""Who is calling: what the authentication middleware found on the request, and from where."""

from __future__ import annotations

from fastapi import Request

from tokenward.auth.middleware import AUTHENTICATION_KEY
from tokenward.auth.principal import ANONYMOUS, Authentication, Principal
from tokenward.errors import ApiError

__all__ = ["authentication_of", "client_ip", "require_principal"]


def authentication_of(request: Request) -> Authentication:
    found = request.scope.get("state", {}).get(AUTHENTICATION_KEY)
    return found if isinstance(found, Authentication) else ANONYMOUS


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def require_principal(request: Request) -> Principal:
    """The caller, or the refusal the middleware recorded (bad token, failed CSRF), or 401."""
    authentication = authentication_of(request)
    if authentication.error is not None:
        raise authentication.error
    if authentication.principal is None:
        raise ApiError(
            401,
            "authentication-required",
            "Sign in, or send 'Authorization: Bearer <token>'.",
        )
    return authentication.principal
