"""The gate's caches: credential -> principal, organization settings, memberships.

Keys are token digests and session key hashes (what the store keeps), never a secret. Every
entry expires after a short TTL, the backstop for a lost notification. Invalidation bumps a
generation; a lookup that started before an invalidation cannot store what it read (the read may
predate the change). While ``usable`` is false (no change listener), nothing is read or stored.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tokenward.auth.changes import Change, ChangeKind
from tokenward.auth.lru import MISSING, ExpiringLRU, Missing
from tokenward.auth.principal import Principal
from tokenward.metrics import Metrics
from tokenward.store.organization_record import OrganizationRecord

__all__ = ["CachedPrincipal", "GateCaches"]

RecordKey = tuple[ChangeKind, int]


@dataclass(frozen=True, slots=True)
class CachedPrincipal:
    principal: Principal
    expires_at: dt.datetime | None
    record: RecordKey  # what a revocation names: (kind, id)


class GateCaches:
    def __init__(
        self,
        *,
        max_entries: int,
        ttl_seconds: float,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.clock = clock  # replaceable, so a test can step past the TTL
        self._usable = False
        # Set while a change listener vouches for the caches: past it, they are not used.
        self.alive_until: float | None = None
        self.generation = 0
        self._principals: ExpiringLRU[str, CachedPrincipal] = ExpiringLRU(
            max_entries, ttl_seconds, self._now
        )
        # Revocations name a record id; this finds the digest it was cached under.
        self._principal_keys: ExpiringLRU[RecordKey, str] = ExpiringLRU(
            max_entries, ttl_seconds, self._now
        )
        self._organizations: ExpiringLRU[int, OrganizationRecord] = ExpiringLRU(
            max_entries, ttl_seconds, self._now
        )
        self._slugs: ExpiringLRU[str, int] = ExpiringLRU(max_entries, ttl_seconds, self._now)
        self._memberships: ExpiringLRU[tuple[int, int], str | None] = ExpiringLRU(
            max_entries, ttl_seconds, self._now
        )
        # (organization id, personal token id) -> cut off from that organization?
        self._revocations: ExpiringLRU[tuple[int, int], bool] = ExpiringLRU(
            max_entries, ttl_seconds, self._now
        )
        self._metrics = metrics
        names = ("principal", "organization", "role", "revocation")
        self._hit = {name: metrics.cache_hits.labels(name) for name in names}
        self._miss = {name: metrics.cache_misses.labels(name) for name in names}
        self._bypass = {name: metrics.cache_bypasses.labels(name) for name in names}

    def _now(self) -> float:
        return self.clock()

    @property
    def usable(self) -> bool:
        """Whether the caches may answer: switched on, and (with a listener) its last sign of
        life recent enough that no change can have gone unheard for long."""
        return self._usable and (self.alive_until is None or time.monotonic() <= self.alive_until)

    @usable.setter
    def usable(self, value: bool) -> None:
        self._usable = value

    def _count(self, cache: str, found: bool) -> None:
        if not self.usable:
            self._bypass[cache].inc()
        elif found:
            self._hit[cache].inc()
        else:
            self._miss[cache].inc()

    # Lookups ---------------------------------------------------------------------------------

    def principal(self, key: str) -> CachedPrincipal | None:
        found = self._principals.get(key) if self.usable else MISSING
        self._count("principal", found is not MISSING)
        if found is MISSING:
            return None
        # Touch the record index too: under LRU pressure it must not be evicted before the
        # principal it points to, or a revocation could no longer find what to drop.
        if self._principal_keys.get(found.record) is MISSING:
            self._principals.discard(key)
            return None
        return found

    def organization(self, slug: str) -> OrganizationRecord | None:
        found: OrganizationRecord | Missing = MISSING
        if self.usable:
            organization_id = self._slugs.get(slug)
            if organization_id is not MISSING:
                found = self._organizations.get(organization_id)
        self._count("organization", found is not MISSING)
        return None if found is MISSING else found

    def organization_by_id(self, organization_id: int) -> OrganizationRecord | None:
        found = self._organizations.get(organization_id) if self.usable else MISSING
        self._count("organization", found is not MISSING)
        return None if found is MISSING else found

    def role(self, organization_id: int, user_id: int) -> str | Literal[Missing.MISSING] | None:
        """The cached role, None for a cached non-member, MISSING when unknown."""
        found = self._memberships.get((organization_id, user_id)) if self.usable else MISSING
        self._count("role", found is not MISSING)
        return found

    def revoked(self, organization_id: int, token_id: int) -> bool | Literal[Missing.MISSING]:
        found = self._revocations.get((organization_id, token_id)) if self.usable else MISSING
        self._count("revocation", found is not MISSING)
        return found

    # Stores: only for reads that began in ``generation`` ---------------------------------------

    def _current(self, generation: int) -> bool:
        return self.usable and generation == self.generation

    def remember_principal(self, generation: int, key: str, entry: CachedPrincipal) -> None:
        if self._current(generation):
            self._principals.put(key, entry)
            self._principal_keys.put(entry.record, key)

    def remember_organization(self, generation: int, record: OrganizationRecord) -> None:
        if self._current(generation):
            self._organizations.put(record.id, record)
            self._slugs.put(record.slug, record.id)

    def remember_role(
        self, generation: int, organization_id: int, user_id: int, role: str | None
    ) -> None:
        if self._current(generation):
            self._memberships.put((organization_id, user_id), role)

    def remember_revoked(
        self, generation: int, organization_id: int, token_id: int, revoked: bool
    ) -> None:
        if self._current(generation):
            self._revocations.put((organization_id, token_id), revoked)

    # Invalidation ------------------------------------------------------------------------------

    def invalidate(self, change: Change) -> None:
        self.generation += 1
        kind, ids = change.kind, change.ids
        if kind is ChangeKind.ORGANIZATION:
            self._organizations.discard(ids[0])
        elif kind is ChangeKind.MEMBERSHIP:
            self._memberships.discard((ids[0], ids[1]))
        elif kind is ChangeKind.REVOCATION:
            self._revocations.discard((ids[0], ids[1]))
        elif kind is ChangeKind.USER:
            # Rare (two-factor on or off): drop every principal rather than index them by user.
            self._principals.clear()
            self._principal_keys.clear()
        else:
            key = self._principal_keys.get((kind, ids[0]))
            if key is not MISSING:
                self._principals.discard(key)
                self._principal_keys.discard((kind, ids[0]))

    def flush(self) -> None:
        self.generation += 1
        for cache in (
            self._principals,
            self._principal_keys,
            self._organizations,
            self._slugs,
            self._memberships,
            self._revocations,
        ):
            cache.clear()
        self._metrics.cache_flushes.inc()

    def sizes(self) -> dict[str, int]:
        return {
            "principal": len(self._principals),
            "organization": len(self._organizations),
            "role": len(self._memberships),
            "revocation": len(self._revocations),
        }
