"""Credential -> principal. Dispatches on the token prefix; rejects malformed tokens unlooked-up."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.exc import SQLAlchemyError

from tokenward import credentials
from tokenward.auth.principal import ANONYMOUS, Authentication, Principal, UserIdentity
from tokenward.auth.sessions import SessionCookies, hash_session_key
from tokenward.errors import ApiError
from tokenward.policy import Credential, CredentialKind
from tokenward.store.engine import Store
from tokenward.store.principals import (
    LAST_USED_RESOLUTION,
    find_login_session,
    find_organization_token,
    find_personal_token,
    touch_last_used,
)
from tokenward.store.tables import OrganizationToken, PersonalToken, utcnow

__all__ = ["Authenticator", "unavailable"]

log = logging.getLogger("tokenward.auth")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_AUTHORIZATION_LENGTH = 1024


def _invalid(message: str) -> Authentication:
    return Authentication(error=ApiError(401, "invalid-token", message))


def unavailable() -> ApiError:
    return ApiError(503, "unavailable", "The data store cannot be reached; try again shortly.")


def _scopes(stored: str) -> frozenset[str]:
    return frozenset(stored.split())


def _expired(expires_at: dt.datetime | None, now: dt.datetime) -> bool:
    return expires_at is not None and expires_at <= now


_EXPIRED = Authentication(
    error=ApiError(401, "token-expired", "This token has expired; create a new one.")
)


class Authenticator:
    def __init__(self, store: Store, cookies: SessionCookies) -> None:
        self.store = store
        self.cookies = cookies

    async def authenticate(
        self,
        *,
        authorization: str | None,
        session_cookie: str | None,
        csrf_header: str | None,
        method: str,
    ) -> Authentication:
        """Judge the Authorization header alone when present, else the session cookie."""
        try:
            if authorization is not None:
                return await self._from_authorization(authorization)
            if session_cookie:
                return await self._from_session(session_cookie, csrf_header, method)
        except (SQLAlchemyError, OSError):
            log.warning("authentication lookup failed: store unavailable")
            return Authentication(error=unavailable())
        return ANONYMOUS

    async def _from_authorization(self, header: str) -> Authentication:
        scheme, _, value = header.strip().partition(" ")
        if len(header) > _MAX_AUTHORIZATION_LENGTH or scheme.lower() != "bearer":
            return _invalid("The Authorization header must be 'Bearer <token>'.")
        try:
            parsed = credentials.parse(value.strip())
        except credentials.MalformedToken:
            return _invalid("The token is malformed or its checksum does not match.")
        if parsed.kind is credentials.TokenKind.PERSONAL:
            return await self._personal(parsed)
        return await self._organization(parsed)

    async def _personal(self, parsed: credentials.ParsedToken) -> Authentication:
        now = utcnow()
        async with self.store.session() as session:
            found = await find_personal_token(session, parsed.digest)
            if found is None or found[0].revoked_at is not None:
                return _invalid("The token is unknown or has been revoked.")
            token, user = found
            if _expired(token.expires_at, now):
                return _EXPIRED
            if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
                await touch_last_used(session, PersonalToken, token.id, now)
                await session.commit()
        return Authentication(
            Principal(
                Credential(CredentialKind.PERSONAL_TOKEN, _scopes(token.scopes)),
                user=UserIdentity(user.id, user.email, user.name, user.is_superuser),
                token_id=token.id,
                token_name=token.name,
                token_last_characters=token.token_last_characters,
            )
        )

    async def _organization(self, parsed: credentials.ParsedToken) -> Authentication:
        now = utcnow()
        async with self.store.session() as session:
            token = await find_organization_token(session, parsed.digest)
            if token is None or token.revoked_at is not None:
                return _invalid("The token is unknown or has been revoked.")
            if _expired(token.expires_at, now):
                return _EXPIRED
            if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
                await touch_last_used(session, OrganizationToken, token.id, now)
                await session.commit()
        return Authentication(
            Principal(
                Credential(
                    CredentialKind.ORGANIZATION_TOKEN,
                    _scopes(token.scopes),
                    organization_id=str(token.organization_id),
                ),
                token_id=token.id,
                token_name=token.name,
                token_last_characters=token.token_last_characters,
            )
        )

    async def _from_session(
        self, cookie: str, csrf_header: str | None, method: str
    ) -> Authentication:
        key = self.cookies.key_from_cookie(cookie)
        if key is None:
            return ANONYMOUS  # a stale or foreign cookie is simply no session
        async with self.store.session() as session:
            found = await find_login_session(session, hash_session_key(key))
        if found is None or _expired(found[0].expires_at, utcnow()):
            return ANONYMOUS
        login, user = found
        principal = Principal(
            Credential(CredentialKind.SESSION),
            user=UserIdentity(user.id, user.email, user.name, user.is_superuser),
            session_key_hash=login.key_hash,
            csrf_token=self.cookies.csrf_token(key),
        )
        if method in UNSAFE_METHODS and not self.cookies.csrf_matches(key, csrf_header):
            return Authentication(
                principal,
                ApiError(
                    403,
                    "csrf-failed",
                    "Missing or wrong X-CSRF-Token header for a session request.",
                ),
            )
        return Authentication(principal)
