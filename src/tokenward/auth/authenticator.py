"""Credential -> principal. Dispatches on the token prefix; rejects malformed tokens unlooked-up."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from sqlalchemy.exc import SQLAlchemyError

from tokenward import credentials
from tokenward.auth.cached_organizations import CachedOrganizations
from tokenward.auth.caches import CachedPrincipal, GateCaches
from tokenward.auth.changes import ChangeKind
from tokenward.auth.principal import ANONYMOUS, Authentication, Principal, UserIdentity
from tokenward.auth.sessions import SessionCookies, hash_session_key
from tokenward.auth.usage import UsageRecorder
from tokenward.errors import ApiError
from tokenward.policy import Credential, CredentialKind
from tokenward.store.cold_lookup import find_personal_token_and_standing
from tokenward.store.engine import Store
from tokenward.store.principals import (
    PersonalTokenRecord,
    find_login_session,
    find_organization_token,
    find_personal_token,
)
from tokenward.store.tables import utcnow

__all__ = ["UNSAFE_METHODS", "Authenticator", "unavailable"]

log = logging.getLogger("tokenward.auth")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_AUTHORIZATION_LENGTH = 1024
# Cache keys: what the store keeps (SHA-256 digests), namespaced by credential type.
_TOKEN_KEY = "token:"
_SESSION_KEY = "session:"


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
    """Resolves credentials through the principal cache, going to the store only on a miss."""

    def __init__(
        self,
        store: Store,
        cookies: SessionCookies,
        caches: GateCaches | None = None,
        usage: UsageRecorder | None = None,
        organizations: CachedOrganizations | None = None,
    ) -> None:
        self.store = store
        self.cookies = cookies
        self.caches = caches
        self.usage = usage
        self.organizations = organizations

    async def authenticate(
        self,
        *,
        authorization: str | None,
        session_cookie: str | None,
        csrf_header: str | None,
        method: str,
        organization: str | None = None,
    ) -> Authentication:
        """Judge the Authorization header alone when present, else the session cookie.

        ``organization``: the slug of the organization the request names, if any. A personal
        token no cache holds is then read in one statement with that organization and the
        token's standing there (``store.cold_lookup``), for a read: a change reads its own.
        """
        try:
            if authorization is not None:
                warm = organization if method not in UNSAFE_METHODS else None
                return await self._from_authorization(authorization, warm)
            if session_cookie:
                return await self._from_session(session_cookie, csrf_header, method)
        except (SQLAlchemyError, OSError):
            log.warning("authentication lookup failed: store unavailable")
            return Authentication(error=unavailable())
        return ANONYMOUS

    async def _from_authorization(self, header: str, organization: str | None) -> Authentication:
        scheme, _, value = header.strip().partition(" ")
        if len(header) > _MAX_AUTHORIZATION_LENGTH or scheme.lower() != "bearer":
            return _invalid("The Authorization header must be 'Bearer <token>'.")
        try:
            parsed = credentials.parse(value.strip())
        except credentials.MalformedToken:
            return _invalid("The token is malformed or its checksum does not match.")
        key = _TOKEN_KEY + parsed.digest
        cached = self.caches.principal(key) if self.caches is not None else None
        if cached is None:
            generation = self.caches.generation if self.caches is not None else 0
            loaded = await self._load(parsed, organization, generation)
            if isinstance(loaded, Authentication):
                return loaded
            cached = loaded
            if self.caches is not None:
                self.caches.remember_principal(generation, key, cached)
        if _expired(cached.expires_at, utcnow()):
            return _EXPIRED
        principal = cached.principal
        if self.usage is not None and principal.token_id is not None:
            self.usage.used(principal.kind, principal.token_id)
        return Authentication(principal)

    async def _load(
        self, parsed: credentials.ParsedToken, organization: str | None, generation: int
    ) -> CachedPrincipal | Authentication:
        if parsed.kind is not credentials.TokenKind.PERSONAL:
            return await self._organization(parsed)
        caches, organizations = self.caches, self.organizations
        if (
            organization is None
            or organizations is None
            or caches is None
            or caches.organization(organization) is not None
        ):
            found = await self.store.read(partial(find_personal_token, digest=parsed.digest))
            return self._personal(found)
        # The organization the request names, read with the token: one round trip, not two.
        token, standing = await self.store.read(
            partial(find_personal_token_and_standing, digest=parsed.digest, slug=organization)
        )
        organizations.remember_standing(generation, standing)
        return self._personal(token)

    def _personal(self, token: PersonalTokenRecord | None) -> CachedPrincipal | Authentication:
        if token is None or token.revoked_at is not None:
            return _invalid("The token is unknown or has been revoked.")
        principal = Principal(
            Credential(
                CredentialKind.PERSONAL_TOKEN,
                _scopes(token.scopes),
                token_id=str(token.id),
                created_at=token.created_at,
                expires_at=token.expires_at,
                two_factor=token.has_two_factor,
                sso_organizations=token.sso_organizations,
            ),
            user=UserIdentity(token.user_id, token.email, token.user_name, token.is_superuser),
            token_id=token.id,
            token_name=token.name,
            token_last_characters=token.token_last_characters,
        )
        return CachedPrincipal(principal, token.expires_at, (ChangeKind.PERSONAL_TOKEN, token.id))

    async def _organization(
        self, parsed: credentials.ParsedToken
    ) -> CachedPrincipal | Authentication:
        token = await self.store.read(partial(find_organization_token, digest=parsed.digest))
        if token is None or token.revoked_at is not None:
            return _invalid("The token is unknown or has been revoked.")
        principal = Principal(
            Credential(
                CredentialKind.ORGANIZATION_TOKEN,
                _scopes(token.scopes),
                organization_id=str(token.organization_id),
            ),
            token_id=token.id,
            token_name=token.name,
            token_last_characters=token.token_last_characters,
        )
        return CachedPrincipal(
            principal, token.expires_at, (ChangeKind.ORGANIZATION_TOKEN, token.id)
        )

    async def _session_principal(self, key: str) -> CachedPrincipal | None:
        key_hash = hash_session_key(key)
        cache_key = _SESSION_KEY + key_hash
        cached = self.caches.principal(cache_key) if self.caches is not None else None
        if cached is not None:
            return cached
        generation = self.caches.generation if self.caches is not None else 0
        login = await self.store.read(partial(find_login_session, key_hash=key_hash))
        if login is None:
            return None
        cached = CachedPrincipal(
            Principal(
                Credential(
                    CredentialKind.SESSION,
                    two_factor=login.two_factor and login.has_two_factor,
                    sso_organizations=login.sso_organizations,
                ),
                user=UserIdentity(login.user_id, login.email, login.user_name, login.is_superuser),
                session_key_hash=login.key_hash,
                csrf_token=self.cookies.csrf_token(key),
            ),
            login.expires_at,
            (ChangeKind.SESSION, login.id),
        )
        if self.caches is not None:
            self.caches.remember_principal(generation, cache_key, cached)
        return cached

    async def _from_session(
        self, cookie: str, csrf_header: str | None, method: str
    ) -> Authentication:
        key = self.cookies.key_from_cookie(cookie)
        if key is None:
            return ANONYMOUS  # a stale or foreign cookie is simply no session
        cached = await self._session_principal(key)
        if cached is None or _expired(cached.expires_at, utcnow()):
            return ANONYMOUS
        principal = cached.principal
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
