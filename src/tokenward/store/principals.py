"""Lookups that turn a credential (token digest or session key hash) into its owner: one query."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.store.tables import LoginSession, OrganizationToken, PersonalToken, User

__all__ = ["find_login_session", "find_organization_token", "find_personal_token"]


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
