"""Lookups that turn a credential (token digest or session key hash) into its owner: one query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.store.tables import LoginSession, OrganizationToken, PersonalToken, User

__all__ = ["find_login_session", "find_organization_token", "find_personal_token"]


@dataclass(frozen=True, slots=True)
class PersonalTokenRecord:
    """What authentication needs of a personal token and its user, and nothing more (no
    password hash, no TOTP secret leaves the store for it)."""

    id: int
    name: str
    token_last_characters: str
    scopes: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    user_id: int
    email: str
    user_name: str
    is_superuser: bool
    has_two_factor: bool


# Built once: the same SQL text each time, so the driver's prepared statement is reused.
_PERSONAL_TOKEN = (
    select(
        PersonalToken.id,
        PersonalToken.name,
        PersonalToken.token_last_characters,
        PersonalToken.scopes,
        PersonalToken.created_at,
        PersonalToken.expires_at,
        PersonalToken.revoked_at,
        User.id,
        User.email,
        User.name,
        User.is_superuser,
        User.totp_secret.is_not(None),
    )
    .join(User, User.id == PersonalToken.user_id)
    .where(PersonalToken.token_hash == bindparam("digest"))
)


async def find_personal_token(session: AsyncSession, digest: str) -> PersonalTokenRecord | None:
    row = (await session.execute(_PERSONAL_TOKEN, {"digest": digest})).first()
    return PersonalTokenRecord(*tuple(row)) if row else None


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
