"""The cache building blocks, with a hand-driven clock: bounds, TTL, generations, bypass."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import inspect as sa_inspect

from tokenward.auth.caches import CachedPrincipal, GateCaches
from tokenward.auth.changes import Change, ChangeKind
from tokenward.auth.lru import MISSING, ExpiringLRU
from tokenward.auth.principal import Principal
from tokenward.metrics import Metrics
from tokenward.policy import Credential, CredentialKind
from tokenward.store.organization_record import OrganizationRecord
from tokenward.store.tables import Organization


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lru_evicts_the_least_recently_used_entry() -> None:
    lru: ExpiringLRU[str, int] = ExpiringLRU(2, 60, Clock())
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "b" is now the least recently used
    lru.put("c", 3)
    assert len(lru) == 2
    assert lru.get("b") is MISSING
    assert lru.get("a") == 1
    assert lru.get("c") == 3


def test_lru_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    lru: ExpiringLRU[str, int | None] = ExpiringLRU(10, 5, clock)
    lru.put("member", None)
    clock.now += 4.9
    assert lru.get("member") is None  # a cached None is a value, not a miss
    clock.now += 0.2
    assert lru.get("member") is MISSING
    assert "member" not in lru


def test_lru_refuses_a_zero_bound() -> None:
    with pytest.raises(ValueError):
        ExpiringLRU(0, 5)


def _principal(token_id: int) -> CachedPrincipal:
    principal = Principal(Credential(CredentialKind.PERSONAL_TOKEN), token_id=token_id)
    return CachedPrincipal(principal, None, (ChangeKind.PERSONAL_TOKEN, token_id))


def _row(organization_id: int, slug: str) -> Organization:
    return Organization(
        id=organization_id,
        slug=slug,
        name=slug.title(),
        allow_personal_tokens=False,
        personal_token_enforcement="report",
        personal_token_max_lifetime_days=30,
        require_2fa=True,
        created_at=dt.datetime.now(dt.UTC),
        require_sso=True,
    )


def _snapshot(organization_id: int, slug: str) -> OrganizationRecord:
    return OrganizationRecord.of(_row(organization_id, slug))


def test_a_record_keeps_every_column_and_cannot_be_changed() -> None:
    row = _row(3, "acme")
    record = OrganizationRecord.of(row)
    for attribute in sa_inspect(Organization).column_attrs:
        assert getattr(record, attribute.key) == getattr(row, attribute.key), attribute.key
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.name = "changed"  # type: ignore[misc]
    assert record.name == "Acme"


def _caches(clock: Clock | None = None) -> GateCaches:
    caches = GateCaches(max_entries=100, ttl_seconds=5, metrics=Metrics(), clock=clock or Clock())
    caches.usable = True
    return caches


def test_a_read_that_began_before_an_invalidation_is_not_stored() -> None:
    caches = _caches()
    generation = caches.generation
    caches.invalidate(Change.organization(1))  # the change commits while the read is in flight
    caches.remember_organization(generation, _snapshot(1, "acme"))
    assert caches.organization("acme") is None
    caches.remember_organization(caches.generation, _snapshot(1, "acme"))
    assert caches.organization("acme") is not None


def test_invalidations_forget_exactly_what_changed() -> None:
    caches = _caches()
    generation = caches.generation
    caches.remember_principal(generation, "token:d1", _principal(1))
    caches.remember_principal(generation, "token:d2", _principal(2))
    caches.remember_organization(generation, _snapshot(7, "acme"))
    caches.remember_role(generation, 7, 3, "owner")
    caches.remember_role(generation, 7, 4, None)

    caches.invalidate(Change.personal_token(1))
    assert caches.principal("token:d1") is None
    assert caches.principal("token:d2") is not None

    caches.invalidate(Change.membership(7, 3))
    assert caches.role(7, 3) is MISSING
    assert caches.role(7, 4) is None

    caches.invalidate(Change.organization(7))
    assert caches.organization("acme") is None
    assert caches.organization_by_id(7) is None


def test_untrusted_caches_are_neither_read_nor_written() -> None:
    caches = _caches()
    caches.remember_organization(caches.generation, _snapshot(1, "acme"))
    caches.usable = False
    assert caches.organization("acme") is None
    caches.remember_organization(caches.generation, _snapshot(2, "beta"))
    caches.usable = True
    assert caches.organization("beta") is None
    assert caches.organization("acme") is not None


def test_flush_empties_every_cache() -> None:
    caches = _caches()
    caches.remember_principal(caches.generation, "token:d1", _principal(1))
    caches.remember_organization(caches.generation, _snapshot(1, "acme"))
    caches.remember_role(caches.generation, 1, 1, "member")
    caches.remember_revoked(caches.generation, 1, 7, True)
    assert caches.sizes()["revocation"] == 1
    caches.flush()
    assert caches.sizes() == {"principal": 0, "organization": 0, "role": 0, "revocation": 0}


def test_revocation_and_user_changes_invalidate_what_they_name() -> None:
    caches = _caches()
    caches.usable = True
    caches.remember_revoked(caches.generation, 1, 7, False)
    caches.remember_revoked(caches.generation, 1, 8, False)
    caches.remember_principal(caches.generation, "token:7", _principal(7))
    caches.invalidate(Change.revocation(1, 7))
    assert caches.revoked(1, 7) is MISSING and caches.revoked(1, 8) is False
    caches.invalidate(Change.user(42))
    assert caches.principal("token:7") is None


def test_caches_are_bounded() -> None:
    caches = GateCaches(max_entries=3, ttl_seconds=5, metrics=Metrics(), clock=Clock())
    caches.usable = True
    for token_id in range(10):
        caches.remember_principal(caches.generation, f"token:{token_id}", _principal(token_id))
    assert caches.sizes()["principal"] == 3


@pytest.mark.parametrize(
    "change",
    [
        Change.organization(12),
        Change.membership(12, 7),
        Change.personal_token(3),
        Change.organization_token(4),
        Change.session(5),
    ],
)
def test_changes_survive_the_wire(change: Change) -> None:
    assert Change.decode(change.encode()) == change


@pytest.mark.parametrize("payload", ["", "organization", "membership:1", "nope:1", "session:x"])
def test_foreign_payloads_are_not_changes(payload: str) -> None:
    assert Change.decode(payload) is None


def test_a_busy_principal_stays_revocable_under_lru_pressure() -> None:
    caches = GateCaches(max_entries=3, ttl_seconds=60, metrics=Metrics(), clock=Clock())
    caches.usable = True
    caches.remember_principal(caches.generation, "token:1", _principal(1))
    for other in range(2, 8):
        assert caches.principal("token:1") is not None  # in use all along
        caches.remember_principal(caches.generation, f"token:{other}", _principal(other))
    caches.invalidate(Change.personal_token(1))
    assert caches.principal("token:1") is None
