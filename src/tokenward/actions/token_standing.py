"""Where each of a user's personal tokens works: its standing in every organization of theirs,
as ``decide`` judges it (the same judgement the gate makes on a request)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.personal_token_access import credential_of, standing
from tokenward.auth.organization_policy import policy_of
from tokenward.policy import Requirement, Role, decide
from tokenward.store.tables import (
    Membership,
    Organization,
    PersonalToken,
    PersonalTokenRevocation,
    User,
)

__all__ = ["OrganizationStanding", "token_standings"]


@dataclass(frozen=True)
class OrganizationStanding:
    slug: str
    name: str
    standing: str  # "allowed", "denied-by-policy", "revoked-here", "2fa-required", ...
    would_be: str | None  # in report mode: the standing once the rules are enforced
    code: str | None  # the refusal code, enforced or reported

    @property
    def works(self) -> bool:
        return self.standing == "allowed"


async def token_standings(
    db: AsyncSession, user_id: int, tokens: Sequence[PersonalToken]
) -> dict[int | None, list[OrganizationStanding]]:
    """``{token.id: [standing per organization, by slug]}``; a token not yet stored (id None)
    is judged as it would be once minted."""
    user = await db.get(User, user_id)
    if user is None:
        return {token.id: [] for token in tokens}
    memberships = (
        await db.execute(
            select(Organization, Membership.role)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == user_id)
            .order_by(Organization.slug)
        )
    ).all()
    stored = [token.id for token in tokens if token.id is not None]
    revoked: dict[int, set[str]] = {}
    if stored:
        rows = await db.execute(
            select(PersonalTokenRevocation.organization_id, PersonalTokenRevocation.token_id).where(
                PersonalTokenRevocation.token_id.in_(stored)
            )
        )
        for organization_id, token_id in rows.all():
            revoked.setdefault(organization_id, set()).add(str(token_id))
    policies = [
        (organization, policy_of(organization, frozenset(revoked.get(organization.id, ()))), role)
        for organization, role in memberships
    ]
    found: dict[int | None, list[OrganizationStanding]] = {}
    for token in tokens:
        credential = credential_of(token, user)
        entries = []
        for organization, policy, role in policies:
            decision = decide(credential, policy, Role(role), Requirement())
            state, would_be = standing(decision)
            code = decision.report_only if decision.allowed else decision.code
            entries.append(
                OrganizationStanding(organization.slug, organization.name, state, would_be, code)
            )
        found[token.id] = entries
    return found
