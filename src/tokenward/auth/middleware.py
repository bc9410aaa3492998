"""Pure ASGI middleware: resolves the request's credential once and leaves it in the scope.

It raises nothing itself: endpoints that need a caller turn ``Authentication.error`` into the
response, so public endpoints keep working whatever credential comes along.
"""

from __future__ import annotations

import re
from http.cookies import CookieError, SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from tokenward.auth.authenticator import Authenticator
from tokenward.auth.principal import Authentication
from tokenward.auth.sessions import COOKIE_NAME

__all__ = ["AUTHENTICATION_KEY", "AuthenticationMiddleware"]

AUTHENTICATION_KEY = "tokenward.authentication"
# The organization an API request names: read with a personal token no cache holds.
_ORGANIZATION_PATH = re.compile(r"/api/0/organizations/([^/]+)/")


def _cookie(raw: str | None, name: str) -> str | None:
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            authorization: str | None = None
            cookie: str | None = None
            csrf: str | None = None
            for name, value in scope["headers"]:
                if name == b"authorization":
                    authorization = value.decode("latin-1")
                elif name == b"cookie":
                    cookie = value.decode("latin-1")
                elif name == b"x-csrf-token":
                    csrf = value.decode("latin-1")
            named = _ORGANIZATION_PATH.match(scope["path"]) if authorization is not None else None
            authentication: Authentication = await self.authenticator.authenticate(
                authorization=authorization,
                session_cookie=_cookie(cookie, COOKIE_NAME),
                csrf_header=csrf,
                method=scope["method"],
                organization=named.group(1) if named is not None else None,
            )
            scope.setdefault("state", {})[AUTHENTICATION_KEY] = authentication
        await self.app(scope, receive, send)
