"""What admission reads before asking ``decide``: the organization and the caller's role in it,
and whether a personal token was cut off there, through the caches.

Requests that change something (unsafe methods) read the organization from the store: their
handler may modify the row, and a write is worth one fresh read. Reads are served from the
caches when those are fresh and trusted; what they miss is read in one statement (organization,
role and the token's cut-off together) and remembered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from tokenward.auth.caches import GateCaches
from tokenward.auth.database import RequestDatabase
from tokenward.auth.lru import MISSING
from tokenward.store.admission_queries import (
    OrganizationRead,
    TokenStanding,
    find_organization_by_id_with_role,
    find_organization_with_role,
    read_membership,
    read_organization,
    read_revoked,
)
from tokenward.store.engine import Store
from tokenward.store.organization_record import OrganizationFields, OrganizationRecord
from tokenward.store.reads import Reads
from tokenward.store.tables import Organization

__all__ = ["CachedOrganizations"]

T = TypeVar("T")
Found = tuple[OrganizationFields | None, str | None]
Loader = Callable[[], Awaitable[tuple[Organization, str | None] | None]]


class CachedOrganizations:
    def __init__(self, caches: GateCaches, store: Store) -> None:
        self.caches = caches
        self.store = store

    async def organization_with_role(
        self,
        database: RequestDatabase,
        slug: str,
        user_id: int | None,
        *,
        fresh: bool = False,
        token_id: int | None = None,
    ) -> Found:
        """``token_id``: the caller's personal token, whose cut-off here is read along on a miss
        (and remembered for ``revoked_here``)."""
        if fresh:
            return await self._load(
                user_id, lambda: find_organization_with_role(database.session, slug, user_id)
            )
        return await self._resolve(
            database,
            self.caches.organization(slug),
            user_id,
            token_id,
            partial(read_organization, slug=slug, user_id=user_id, token_id=token_id),
        )

    async def organization_by_id_with_role(
        self,
        database: RequestDatabase,
        organization_id: int,
        user_id: int | None,
        *,
        fresh: bool = False,
        token_id: int | None = None,
    ) -> Found:
        if fresh:
            return await self._load(
                user_id,
                lambda: find_organization_by_id_with_role(
                    database.session, organization_id, user_id
                ),
            )
        return await self._resolve(
            database,
            self.caches.organization_by_id(organization_id),
            user_id,
            token_id,
            partial(
                read_organization,
                organization_id=organization_id,
                user_id=user_id,
                token_id=token_id,
            ),
        )

    async def _resolve(
        self,
        database: RequestDatabase,
        record: OrganizationRecord | None,
        user_id: int | None,
        token_id: int | None,
        read: Callable[[Reads], Awaitable[OrganizationRead]],
    ) -> Found:
        caches = self.caches
        generation = caches.generation
        if record is None:
            found = await database.read(read)
            if found.columns is None:  # not cached: creating an organization needs no event
                return None, None
            record = self._remember(
                generation, found.columns, user_id, found.role, token_id, found.revoked
            )
            return record, found.role
        if user_id is None:
            return record, None
        cached = caches.role(record.id, user_id)
        if cached is not MISSING:
            return record, cached
        role, revoked = await database.read(
            partial(read_membership, organization_id=record.id, user_id=user_id, token_id=token_id),
        )
        caches.remember_role(generation, record.id, user_id, role)
        if token_id is not None:
            caches.remember_revoked(generation, record.id, token_id, revoked)
        return record, role

    async def _load(self, user_id: int | None, load: Loader) -> Found:
        """A fresh read of the ORM row in the request's session, remembered for the reads after."""
        caches = self.caches
        generation = caches.generation
        found = await load()
        if found is None:
            return None, None
        organization, role = found
        caches.remember_organization(generation, OrganizationRecord.of(organization))
        if user_id is not None:
            caches.remember_role(generation, organization.id, user_id, role)
        return organization, role

    def remember_standing(self, generation: int, standing: TokenStanding) -> None:
        """Remember what authentication read with a personal token the caches did not hold: the
        organization its request names and the token's standing there (``cold_lookup``), under
        the caches' one rule, as the gate's own read is remembered."""
        if standing.columns is not None:
            self._remember(
                generation,
                standing.columns,
                standing.user_id,
                standing.role,
                standing.token_id,
                standing.revoked,
            )

    def _remember(
        self,
        generation: int,
        columns: dict[str, Any],
        user_id: int | None,
        role: str | None,
        token_id: int | None,
        revoked: bool,
    ) -> OrganizationRecord:
        """An organization read from the store, with the user's role and the token's cut-off
        there when they were asked about."""
        caches = self.caches
        record = OrganizationRecord(**columns)
        caches.remember_organization(generation, record)
        if user_id is not None:
            caches.remember_role(generation, record.id, user_id, role)
        if token_id is not None:
            caches.remember_revoked(generation, record.id, token_id, revoked)
        return record

    async def revoked_here(
        self, database: RequestDatabase, organization_id: int, token_id: int
    ) -> bool:
        caches = self.caches
        generation = caches.generation
        found = caches.revoked(organization_id, token_id)
        if found is not MISSING:
            return found
        revoked = await database.read(
            partial(read_revoked, organization_id=organization_id, token_id=token_id)
        )
        caches.remember_revoked(generation, organization_id, token_id, revoked)
        return revoked
