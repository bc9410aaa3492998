"""What admission reads before asking ``decide``: the organization and the caller's role in it,
and whether a personal token was cut off there, through the caches.

Requests that change something (unsafe methods) read the organization from the store: their
handler may modify the row, and a write is worth one fresh read. Reads are served from the
caches when those are fresh and trusted: the cached ``OrganizationRecord`` itself, immutable, is
what the request gets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tokenward.auth.caches import GateCaches
from tokenward.auth.database import RequestDatabase
from tokenward.auth.lru import MISSING
from tokenward.store.admission_queries import (
    find_organization_by_id_with_role,
    find_organization_with_role,
    find_role,
    is_revoked_here,
)
from tokenward.store.organization_record import OrganizationFields, OrganizationRecord
from tokenward.store.tables import Organization

__all__ = ["CachedOrganizations"]

Found = tuple[OrganizationFields | None, str | None]
Loader = Callable[[], Awaitable[tuple[Organization, str | None] | None]]


class CachedOrganizations:
    def __init__(self, caches: GateCaches) -> None:
        self.caches = caches

    async def organization_with_role(
        self, database: RequestDatabase, slug: str, user_id: int | None, *, fresh: bool = False
    ) -> Found:
        cached = None if fresh else self.caches.organization(slug)
        return await self._resolve(
            database,
            cached,
            user_id,
            lambda: find_organization_with_role(database.session, slug, user_id),
        )

    async def organization_by_id_with_role(
        self,
        database: RequestDatabase,
        organization_id: int,
        user_id: int | None,
        *,
        fresh: bool = False,
    ) -> Found:
        cached = None if fresh else self.caches.organization_by_id(organization_id)
        return await self._resolve(
            database,
            cached,
            user_id,
            lambda: find_organization_by_id_with_role(database.session, organization_id, user_id),
        )

    async def _resolve(
        self,
        database: RequestDatabase,
        cached: OrganizationRecord | None,
        user_id: int | None,
        load: Loader,
    ) -> Found:
        caches = self.caches
        generation = caches.generation
        if cached is not None:
            if user_id is None:
                return cached, None
            role = caches.role(cached.id, user_id)
            if role is MISSING:
                role = await find_role(database.session, cached.id, user_id)
                caches.remember_role(generation, cached.id, user_id, role)
            return cached, role
        found = await load()
        if found is None:
            return None, None  # unknown organizations are not cached: creating one needs no event
        organization, role = found
        caches.remember_organization(generation, OrganizationRecord.of(organization))
        if user_id is not None:
            caches.remember_role(generation, organization.id, user_id, role)
        return organization, role

    async def revoked_here(
        self, database: RequestDatabase, organization_id: int, token_id: int
    ) -> bool:
        caches = self.caches
        generation = caches.generation
        found = caches.revoked(organization_id, token_id)
        if found is not MISSING:
            return found
        revoked = await is_revoked_here(database.session, organization_id, token_id)
        caches.remember_revoked(generation, organization_id, token_id, revoked)
        return revoked
