"""The key to an organization's data: an ``AdmittedOrganization``, which only the gate makes.

Every reader of organization-owned data (members, projects, organization tokens, the audit log,
usage, members' personal tokens) takes an ``AdmittedOrganization`` rather than an id or a row, so
a route that skipped the gate has nothing to name the organization with. Only
``tokenward.auth.admit`` can make one: it claims the single issuer when it is imported, and the
constructor refuses to run without that issuer's seal. Readers check the type at run time too, as
a row or an id would otherwise pass for one (both have what a query needs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

__all__ = ["AdmittedOrganization", "admitted_id", "claim_issuer"]


class _Seal:
    __slots__ = ()


_SEAL: Final = _Seal()
_claimed = False


class AdmittedOrganization:
    """An organization the gate let the current request into (by ``policy.decide``)."""

    __slots__ = ("id", "slug")
    id: int
    slug: str

    def __init__(self, organization_id: int, slug: str, *, seal: _Seal) -> None:
        if seal is not _SEAL:
            raise TypeError("Only the organization gate admits an organization.")
        # Set once: an admission for one organization must not be turned into another's.
        object.__setattr__(self, "id", organization_id)
        object.__setattr__(self, "slug", slug)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("An admission cannot be changed.")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("An admission cannot be changed.")

    def __repr__(self) -> str:
        return f"AdmittedOrganization(id={self.id!r}, slug={self.slug!r})"


def claim_issuer() -> Callable[[int, str], AdmittedOrganization]:
    """The one way to make ``AdmittedOrganization`` values; the gate claims it at import, and
    a second claim, from anywhere, fails."""
    global _claimed
    if _claimed:
        raise RuntimeError("The organization gate already holds the issuer of admissions.")
    _claimed = True

    def issue(organization_id: int, slug: str) -> AdmittedOrganization:
        return AdmittedOrganization(organization_id, slug, seal=_SEAL)

    return issue


def admitted_id(organization: AdmittedOrganization) -> int:
    """The id to query by, for an organization the gate admitted; anything else is refused."""
    if not isinstance(organization, AdmittedOrganization):
        raise TypeError(
            "Organization data is read only through the gate: pass the AdmittedOrganization "
            f"of an OrganizationContext, not {type(organization).__name__}."
        )
    return organization.id
