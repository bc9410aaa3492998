"""Lookups that turn a credential (token digest or session key hash) into its owner.

Each is one statement outside any session (``Store.read``): the credential's row,
its user's, and the organizations where it passed single sign-on, joined in, one row per such
organization (one row with NULL when there is none). Columns, not ORM objects: what
authentication needs and nothing more (no password hash, no TOTP secret leaves the store for it).
Statements are built once, so their SQL text is the same each time and the driver's prepared
statement is reused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from tokenward.store.reads import Reads
from tokenward.store.tables import (
    LoginSession,
    OrganizationToken,
    PersonalToken,
    SsoSessionSignIn,
    SsoTokenAuthorization,
    User,
)

__all__ = [
    "PERSONAL_TOKEN",
    "PersonalTokenRecord",
    "find_login_session",
    "find_organization_token",
    "find_personal_token",
    "personal_token_of",
]


@dataclass(frozen=True, slots=True)
class PersonalTokenRecord:
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
    sso_organizations: frozenset[str]  # organization ids where it is authorized through SSO


@dataclass(frozen=True, slots=True)
class OrganizationTokenRecord:
    id: int
    organization_id: int
    name: str
    token_last_characters: str
    scopes: str
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class LoginSessionRecord:
    id: int
    key_hash: str
    expires_at: dt.datetime
    two_factor: bool
    user_id: int
    email: str
    user_name: str
    is_superuser: bool
    has_two_factor: bool
    sso_organizations: frozenset[str]  # organization ids it signed in to through SSO


def _with_sso(rows: Sequence[Sequence[Any]]) -> tuple[Any, ...]:
    """The first row's columns but the last, then the set of the last column over all rows."""
    organizations = frozenset(str(row[-1]) for row in rows if row[-1] is not None)
    return (*rows[0][:-1], organizations)


PERSONAL_TOKEN = (
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
        SsoTokenAuthorization.organization_id,
    )
    .join(User, User.id == PersonalToken.user_id)
    .outerjoin(SsoTokenAuthorization, SsoTokenAuthorization.token_id == PersonalToken.id)
    .where(PersonalToken.token_hash == bindparam("digest"))
)

_ORGANIZATION_TOKEN = select(
    OrganizationToken.id,
    OrganizationToken.organization_id,
    OrganizationToken.name,
    OrganizationToken.token_last_characters,
    OrganizationToken.scopes,
    OrganizationToken.expires_at,
    OrganizationToken.revoked_at,
).where(OrganizationToken.token_hash == bindparam("digest"))

_LOGIN_SESSION = (
    select(
        LoginSession.id,
        LoginSession.key_hash,
        LoginSession.expires_at,
        LoginSession.two_factor,
        User.id,
        User.email,
        User.name,
        User.is_superuser,
        User.totp_secret.is_not(None),
        SsoSessionSignIn.organization_id,
    )
    .join(User, User.id == LoginSession.user_id)
    .outerjoin(SsoSessionSignIn, SsoSessionSignIn.login_session_id == LoginSession.id)
    .where(LoginSession.key_hash == bindparam("key_hash"))
)


async def find_personal_token(reads: Reads, digest: str) -> PersonalTokenRecord | None:
    rows = await reads.all(PERSONAL_TOKEN, {"digest": digest})
    return personal_token_of(rows) if rows else None


def personal_token_of(rows: Sequence[Sequence[Any]]) -> PersonalTokenRecord:
    """The record from ``PERSONAL_TOKEN``'s rows (one per SSO organization, at least one)."""
    return PersonalTokenRecord(*_with_sso(rows))


async def find_organization_token(reads: Reads, digest: str) -> OrganizationTokenRecord | None:
    rows = await reads.all(_ORGANIZATION_TOKEN, {"digest": digest})
    return OrganizationTokenRecord(*rows[0]) if rows else None


async def find_login_session(reads: Reads, key_hash: str) -> LoginSessionRecord | None:
    rows = await reads.all(_LOGIN_SESSION, {"key_hash": key_hash})
    return LoginSessionRecord(*_with_sso(rows)) if rows else None
