"""An organization's stored settings as the pure ``policy.decide`` takes them."""

from __future__ import annotations

from tokenward.policy import Enforcement, OrganizationPolicy
from tokenward.store.organization_record import OrganizationFields

__all__ = ["policy_of"]


def policy_of(
    organization: OrganizationFields, revoked_personal_tokens: frozenset[str] = frozenset()
) -> OrganizationPolicy:
    """The organization's rules as the pure ``decide`` takes them."""
    return OrganizationPolicy(
        organization_id=str(organization.id),
        slug=organization.slug,
        allow_personal_tokens=organization.allow_personal_tokens,
        personal_token_enforcement=Enforcement(organization.personal_token_enforcement),
        personal_token_max_lifetime_days=organization.personal_token_max_lifetime_days,
        require_2fa=organization.require_2fa,
        revoked_personal_tokens=revoked_personal_tokens,
        require_sso=bool(organization.require_sso),
    )
