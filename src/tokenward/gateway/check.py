"""One forward-auth check: the original request -> a rule -> the organization gate -> identity.

The rule only names the organization and the requirement; the caller is the one the
authentication middleware already resolved from the sub-request's ``Authorization`` and
``Cookie`` headers, and the answer is the gate's (``policy.decide``), exactly as on the API.
"""

from __future__ import annotations

import hmac
from urllib.parse import quote

from fastapi import Request
from sqlalchemy.exc import SQLAlchemyError

from tokenward.auth.admit import admit_named
from tokenward.auth.authenticator import UNSAFE_METHODS, unavailable
from tokenward.auth.caller import authentication_of, require_principal
from tokenward.auth.database import RequestDatabase
from tokenward.auth.principal import Principal
from tokenward.errors import ApiError
from tokenward.gateway.original import OriginalRequest
from tokenward.gateway.resolver import OrganizationResolver, ResolverUnavailable
from tokenward.gateway.routes import Route, RouteMatch, RouteTable
from tokenward.policy import Requirement
from tokenward.store.engine import Store

__all__ = ["Gateway"]

Headers = dict[str, str]


def _text(value: str) -> str:
    """A header value as HTTP carries it: non-ASCII (a rare email) percent-encoded."""
    return value if value.isascii() else quote(value, safe="@+.-_")


def _caller_headers(principal: Principal) -> Headers:
    headers: Headers = {"Tokenward-Credential": principal.kind.value}
    if principal.user is not None:
        headers["Tokenward-User-Id"] = str(principal.user.id)
        headers["Tokenward-User-Email"] = _text(principal.user.email)
    if principal.token_id is not None:
        headers["Tokenward-Token-Id"] = str(principal.token_id)
    return headers


def _csrf_checked(request: Request, principal: Principal, method: str) -> None:
    """A session changing something upstream needs the same X-CSRF-Token as on the API."""
    if not principal.is_session or method not in UNSAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token", "")
    expected = principal.csrf_token or ""
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ApiError(
            403, "csrf-failed", "Missing or wrong X-CSRF-Token header for a session request."
        )


class Gateway:
    def __init__(self, table: RouteTable, store: Store) -> None:
        self.table = table
        self.store = store
        self.resolver = OrganizationResolver(table.resolvers)

    async def close(self) -> None:
        await self.resolver.close()

    async def check(self, request: Request, original: OriginalRequest) -> Headers:
        """The identity headers for an allowed request; raises the refusal as an ``ApiError``."""
        found = self.table.match(original.method, original.segments)
        if found is None:
            if self.table.default == "public":
                return self._anyone(request)
            raise ApiError.not_found()
        route = found.route
        if route.access == "public":
            return self._anyone(request)
        principal = require_principal(request)
        _csrf_checked(request, principal, original.method)
        if route.access == "user":
            if principal.user is None:
                raise ApiError(
                    403,
                    "user-required",
                    "This endpoint is about a user; organization tokens have none.",
                )
            return {**_caller_headers(principal), **self._own_scopes(principal)}
        slug = await self._organization(found)
        if slug is None:
            raise ApiError.not_found()
        return await self._admitted(request, principal, route, slug)

    def _anyone(self, request: Request) -> Headers:
        """Public routes let everyone through, saying who the caller is when that is known."""
        authentication = authentication_of(request)
        if authentication.error is not None or authentication.principal is None:
            return {}
        principal = authentication.principal
        return {**_caller_headers(principal), **self._own_scopes(principal)}

    @staticmethod
    def _own_scopes(principal: Principal) -> Headers:
        return {"Tokenward-Scopes": " ".join(sorted(principal.credential.scopes))}

    async def _organization(self, found: RouteMatch) -> str | None:
        route = found.route
        if route.organization is not None:
            return found.values[route.organization]
        assert route.organization_from is not None
        resolver = self.table.resolvers[route.organization_from]
        try:
            return await self.resolver.organization(resolver, found.values)
        except ResolverUnavailable:
            raise ApiError(
                503,
                "unavailable",
                "The service that says which organization owns this object cannot be reached; "
                "try again shortly.",
            ) from None

    async def _admitted(
        self, request: Request, principal: Principal, route: Route, slug: str
    ) -> Headers:
        database = RequestDatabase(self.store)  # a cached answer opens no session
        try:
            context = await admit_named(
                request, database, principal, slug, Requirement(route.scope)
            )
        except (SQLAlchemyError, OSError):
            raise unavailable() from None
        finally:
            await database.close()
        headers = _caller_headers(principal)
        headers["Tokenward-Organization"] = context.organization.slug
        headers["Tokenward-Organization-Id"] = str(context.organization.id)
        if context.role is not None:
            headers["Tokenward-Role"] = context.role.value
        headers["Tokenward-Scopes"] = " ".join(sorted(context.scopes))
        return headers
