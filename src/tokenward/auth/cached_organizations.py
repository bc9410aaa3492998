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
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from tokenward.auth.caches import GateCaches, OrganizationSnapshot
from tokenward.auth.lru import MISSING
from tokenward.store.admission_queries import (
    OrganizationRead,
    find_organization_by_id_with_role,
    find_organization_with_role,
    read_membership,
    read_organization,
    read_revoked,
)
from tokenward.store.engine import Store
from tokenward.store.tables import Organization

__all__ = ["CachedOrganizations"]

T = TypeVar("T")
Found = tuple[Organization | None, str | None]
Loader = Callable[[], Awaitable[tuple[Organization, str | None] | None]]


class CachedOrganizations:
    def __init__(self, caches: GateCaches, store: Store) -> None:
        self.caches = caches
        self.store = store

    async def organization_with_role(
        self,
        db: AsyncSession,
        slug: str,
        user_id: int | None,
        *,
        fresh: bool = False,
        token_id: int | None = None,
    ) -> Found:
        """``token_id``: the caller's personal token, whose cut-off here is read along on a miss
        (and remembered for ``revoked_here``)."""
        if fresh:
            return await self._load(user_id, lambda: find_organization_with_role(db, slug, user_id))
        return await self._resolve(
            db,
            self.caches.organization(slug),
            user_id,
            token_id,
            partial(read_organization, slug=slug, user_id=user_id, token_id=token_id),
        )

    async def organization_by_id_with_role(
        self,
        db: AsyncSession,
        organization_id: int,
        user_id: int | None,
        *,
        fresh: bool = False,
        token_id: int | None = None,
    ) -> Found:
        if fresh:
            return await self._load(
                user_id, lambda: find_organization_by_id_with_role(db, organization_id, user_id)
            )
        return await self._resolve(
            db,
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

    async def _read(self, db: AsyncSession, query: Callable[[Connection], T]) -> T:
        """Where a miss is read. A request's session that already holds a connection reads there
        (a request never waits for a second connection while holding one, so requests cannot
        drain the pool waiting on each other); else a connection is borrowed for the one
        statement, with no transaction to begin and end around it (``Store.read``)."""
        if db.in_transaction():

            def in_session(session: Session) -> T:
                return query(session.connection())

            return await db.run_sync(in_session)
        return await self.store.read(query)

    async def _resolve(
        self,
        db: AsyncSession,
        snapshot: OrganizationSnapshot | None,
        user_id: int | None,
        token_id: int | None,
        read: Callable[[Connection], OrganizationRead],
    ) -> Found:
        caches = self.caches
        generation = caches.generation
        if snapshot is None:
            found = await self._read(db, read)
            if found.columns is None:  # not cached: creating an organization needs no event
                return None, None
            snapshot = OrganizationSnapshot.of_columns(found.columns)
            caches.remember_organization(generation, snapshot)
            if user_id is not None:
                caches.remember_role(generation, snapshot.id, user_id, found.role)
            if token_id is not None:
                caches.remember_revoked(generation, snapshot.id, token_id, found.revoked)
            return snapshot.model(), found.role
        if user_id is None:
            return snapshot.model(), None
        cached = caches.role(snapshot.id, user_id)
        if cached is not MISSING:
            return snapshot.model(), cached
        role, revoked = await self._read(
            db,
            partial(
                read_membership, organization_id=snapshot.id, user_id=user_id, token_id=token_id
            ),
        )
        caches.remember_role(generation, snapshot.id, user_id, role)
        if token_id is not None:
            caches.remember_revoked(generation, snapshot.id, token_id, revoked)
        return snapshot.model(), role

    async def _load(self, user_id: int | None, load: Loader) -> Found:
        """A fresh read of the ORM row in the request's session, remembered for the reads after."""
        caches = self.caches
        generation = caches.generation
        found = await load()
        if found is None:
            return None, None
        organization, role = found
        caches.remember_organization(generation, OrganizationSnapshot.of(organization))
        if user_id is not None:
            caches.remember_role(generation, organization.id, user_id, role)
        return organization, role

    async def revoked_here(self, db: AsyncSession, organization_id: int, token_id: int) -> bool:
        caches = self.caches
        generation = caches.generation
        found = caches.revoked(organization_id, token_id)
        if found is not MISSING:
            return found
        revoked = await self._read(
            db, partial(read_revoked, organization_id=organization_id, token_id=token_id)
        )
        caches.remember_revoked(generation, organization_id, token_id, revoked)
        return revoked
