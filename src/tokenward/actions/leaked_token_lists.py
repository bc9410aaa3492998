"""Tokens revoked because they leaked, as the organization's token pages list them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.leaked_tokens import LEAKED
from tokenward.store.tables import Membership, OrganizationToken, PersonalToken, User, utcnow

__all__ = ["leaked_member_tokens", "leaked_organization_tokens"]

SHOWN_FOR_DAYS = 90  # how long pages keep showing a token revoked because it leaked


def _shown_since() -> dt.datetime:
    return utcnow() - dt.timedelta(days=SHOWN_FOR_DAYS)


async def leaked_member_tokens(
    db: AsyncSession, organization_id: int
) -> list[tuple[PersonalToken, User]]:
    """Personal tokens of current members revoked as leaked lately, newest first."""
    query = (
        select(PersonalToken, User)
        .join(User, User.id == PersonalToken.user_id)
        .join(
            Membership,
            (Membership.user_id == User.id) & (Membership.organization_id == organization_id),
        )
        .where(
            PersonalToken.revocation_reason == LEAKED,
            PersonalToken.revoked_at >= _shown_since(),
        )
        .order_by(PersonalToken.revoked_at.desc(), PersonalToken.id.desc())
        .limit(100)
    )
    return [(token, user) for token, user in (await db.execute(query)).all()]


async def leaked_organization_tokens(
    db: AsyncSession, organization_id: int
) -> list[OrganizationToken]:
    """The organization's tokens revoked as leaked lately, newest first."""
    query = (
        select(OrganizationToken)
        .where(
            OrganizationToken.organization_id == organization_id,
            OrganizationToken.revocation_reason == LEAKED,
            OrganizationToken.revoked_at >= _shown_since(),
        )
        .order_by(OrganizationToken.revoked_at.desc(), OrganizationToken.id.desc())
        .limit(100)
    )
    return list((await db.scalars(query)).all())
