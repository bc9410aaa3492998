"""Lookups that turn a credential (token digest or session key hash) into its owner: one query."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.store.tables import LoginSession, OrganizationToken, PersonalToken, User

__all__ = [
    "LAST_USED_RESOLUTION",
    "find_login_session",
    "find_organization_token",
    "find_personal_token",
    "touch_last_used",
]

# last_used_at is written at most this often per token, never once per request.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


async def find_personal_token(
    session: AsyncSession, digest: str
) -> tuple[PersonalToken, User] | None:
    row = (
        await session.execute(
            select(PersonalToken, User)
            .join(User, User.id == PersonalToken.user_id)
            .where(PersonalToken.token_hash == digest)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def find_organization_token(session: AsyncSession, digest: str) -> OrganizationToken | None:
    return (
        await session.execute(
            select(OrganizationToken).where(OrganizationToken.token_hash == digest)
        )
    ).scalar_one_or_none()


async def find_login_session(
    session: AsyncSession, key_hash: str
) -> tuple[LoginSession, User] | None:
    row = (
        await session.execute(
            select(LoginSession, User)
            .join(User, User.id == LoginSession.user_id)
            .where(LoginSession.key_hash == key_hash)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def touch_last_used(
    session: AsyncSession,
    model: type[PersonalToken] | type[OrganizationToken],
    token_id: int,
    now: dt.datetime,
) -> None:
    """Record a use, skipping the write when the stored time is recent enough."""
    cutoff = now - LAST_USED_RESOLUTION
    await session.execute(
        update(model)
        .where(model.id == token_id)
        .where(or_(model.last_used_at.is_(None), model.last_used_at < cutoff))
        .values(last_used_at=now)
    )
