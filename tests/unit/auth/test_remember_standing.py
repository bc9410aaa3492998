"""``CachedOrganizations.remember_standing``: what authentication read with a personal token no
cache held (the organization its request names, the token's standing there) fills the caches as
the gate's own read would, under the same rule: nothing read before a change is remembered."""

from __future__ import annotations

import dataclasses

from tokenward.auth.cached_organizations import CachedOrganizations
from tokenward.auth.caches import GateCaches
from tokenward.auth.lru import MISSING
from tokenward.metrics import Metrics
from tokenward.store.admission_queries import TokenStanding
from tokenward.store.organization_record import OrganizationRecord
from tokenward.store.tables import utcnow

_ORGANIZATION = OrganizationRecord(
    id=7,
    slug="acme",
    name="Acme",
    allow_personal_tokens=False,
    personal_token_enforcement="enforce",
    personal_token_max_lifetime_days=None,
    require_2fa=False,
    created_at=utcnow(),
    require_sso=False,
)
_STANDING = TokenStanding(
    dataclasses.asdict(_ORGANIZATION), token_id=11, user_id=3, role="member", revoked=True
)


def _caches() -> tuple[GateCaches, CachedOrganizations]:
    caches = GateCaches(max_entries=100, ttl_seconds=60, metrics=Metrics())
    caches.usable = True
    return caches, CachedOrganizations(caches, store=None)  # type: ignore[arg-type]


def test_the_organization_and_the_tokens_standing_there_are_remembered() -> None:
    caches, organizations = _caches()
    organizations.remember_standing(caches.generation, _STANDING)
    assert caches.organization("acme") == _ORGANIZATION
    assert caches.role(7, 3) == "member"
    assert caches.revoked(7, 11) is True


def test_nothing_read_before_a_change_is_remembered_after_it() -> None:
    caches, organizations = _caches()
    generation = caches.generation  # the read begins
    caches.flush()  # a change notification arrives meanwhile
    organizations.remember_standing(generation, _STANDING)
    assert caches.organization("acme") is None
    assert caches.role(7, 3) is MISSING
    assert caches.revoked(7, 11) is MISSING


def test_no_such_organization_remembers_nothing() -> None:
    caches, organizations = _caches()
    organizations.remember_standing(caches.generation, TokenStanding(None))
    assert caches.organization("acme") is None
    assert caches.role(7, 3) is MISSING
