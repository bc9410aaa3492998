"""The queries admission runs: an organization (by slug, or via an object in it) with the
caller's membership role there. Outsiders get the organization with no role.

Reads (safe methods) take the organization as columns, with the role and whether the caller's
personal token is cut off there, in one statement (``Store.read``; see ``CachedOrganizations``
for where it runs). Requests that change something load the ORM row in their session instead:
their handler may modify it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.store.reads import Reads
from tokenward.store.tables import (
    SLUG_PATTERN,
    Membership,
    Organization,
    PersonalTokenRevocation,
    Project,
)

_SLUG = re.compile(SLUG_PATTERN)

__all__ = [
    "ORGANIZATION_COLUMNS",
    "OrganizationRead",
    "TokenStanding",
    "could_exist",
    "find_organization_by_id_with_role",
    "find_organization_with_role",
    "find_project",
    "read_membership",
    "read_organization",
    "read_revoked",
    "standing_of",
]

# Every column of the row, not a chosen few: a setting added to the table reaches the decision
# (and the caches) without anyone remembering to add it here.
ORGANIZATION_COLUMNS = tuple(attribute.key for attribute in inspect(Organization).column_attrs)
_NOBODY = -1  # no user, no token: matches no row

# Bound parameters, so the SQL text is one per statement and its prepared form is reused.
_MEMBERSHIP = and_(
    Membership.organization_id == Organization.id, Membership.user_id == bindparam("user_id")
)
_REVOCATION = and_(
    PersonalTokenRevocation.organization_id == Organization.id,
    PersonalTokenRevocation.token_id == bindparam("token_id"),
)


def _standing(*columns: Any) -> Select[Any]:
    return (
        select(*columns, Membership.role, PersonalTokenRevocation.id)
        .select_from(Organization)
        .outerjoin(Membership, _MEMBERSHIP)
        .outerjoin(PersonalTokenRevocation, _REVOCATION)
    )


def _organization(where: ColumnElement[bool]) -> Select[Any]:
    return _standing(*(getattr(Organization, key) for key in ORGANIZATION_COLUMNS)).where(where)


_BY_SLUG = _organization(Organization.slug == bindparam("slug"))
_BY_ID = _organization(Organization.id == bindparam("organization_id"))
_STANDING = _standing().where(Organization.id == bindparam("organization_id"))
_REVOKED = select(PersonalTokenRevocation.id).where(
    PersonalTokenRevocation.organization_id == bindparam("organization_id"),
    PersonalTokenRevocation.token_id == bindparam("token_id"),
)


@dataclass(frozen=True, slots=True)
class OrganizationRead:
    """An organization's columns by attribute name (None: no such organization), the user's
    role there (None: not a member) and whether the token asked about is cut off there."""

    columns: dict[str, Any] | None
    role: str | None = None
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class TokenStanding:
    """An organization's columns (None: no such organization) and a personal token's standing
    there: the token's id, its user's role there and whether it is cut off there."""

    columns: dict[str, Any] | None
    token_id: int | None = None
    user_id: int | None = None
    role: str | None = None
    revoked: bool = False


def could_exist(slug: str) -> bool:
    """Whether an organization could have this slug (anything else is not looked up)."""
    return _SLUG.fullmatch(slug) is not None


def _parameters(user_id: int | None, token_id: int | None) -> dict[str, int]:
    return {
        "user_id": _NOBODY if user_id is None else user_id,
        "token_id": _NOBODY if token_id is None else token_id,
    }


async def read_organization(
    reads: Reads,
    *,
    slug: str | None = None,
    organization_id: int | None = None,
    user_id: int | None,
    token_id: int | None,
) -> OrganizationRead:
    """The organization named by slug or id, with the user's role and the personal token's
    cut-off there: one statement."""
    parameters: dict[str, Any] = _parameters(user_id, token_id)
    if slug is not None:
        if not _SLUG.fullmatch(slug):
            return OrganizationRead(None)  # cannot exist (and a NUL would not reach PostgreSQL)
        query, parameters["slug"] = _BY_SLUG, slug
    else:
        query, parameters["organization_id"] = _BY_ID, organization_id
    rows = await reads.all(query, parameters)
    if not rows:
        return OrganizationRead(None)
    *columns, role, revocation = rows[0]
    organization = dict(zip(ORGANIZATION_COLUMNS, columns, strict=True))
    return OrganizationRead(organization, role, revocation is not None)


def standing_of(tail: Sequence[Any], *, token_id: int | None, user_id: int | None) -> TokenStanding:
    """A ``TokenStanding`` from a row's last columns: the organization's, role, cut-off."""
    *columns, role, revocation = tail
    if columns[0] is None:  # the organization's id: no such organization
        return TokenStanding(None)
    organization = dict(zip(ORGANIZATION_COLUMNS, columns, strict=True))
    return TokenStanding(organization, token_id, user_id, role, revocation is not None)


async def read_membership(
    reads: Reads, *, organization_id: int, user_id: int, token_id: int | None
) -> tuple[str | None, bool]:
    """The user's role in the organization (None for a non-member) and whether the personal
    token is cut off there: one statement."""
    parameters = {"organization_id": organization_id, **_parameters(user_id, token_id)}
    rows = await reads.all(_STANDING, parameters)
    return (rows[0][0], rows[0][1] is not None) if rows else (None, False)


async def read_revoked(reads: Reads, *, organization_id: int, token_id: int) -> bool:
    """Whether an owner or manager cut this personal token off from the organization."""
    parameters = {"organization_id": organization_id, "token_id": token_id}
    return bool(await reads.all(_REVOKED, parameters))


def _with_role(user_id: int | None) -> Select[Organization, str | None]:
    membership = and_(
        Membership.organization_id == Organization.id,
        Membership.user_id == (user_id if user_id is not None else -1),
    )
    return select(Organization, Membership.role).outerjoin(Membership, membership)


async def find_organization_with_role(
    session: AsyncSession, slug: str, user_id: int | None
) -> tuple[Organization, str | None] | None:
    if not _SLUG.fullmatch(slug):
        return None  # cannot exist; some byte sequences (NUL) would not even reach PostgreSQL
    row = (await session.execute(_with_role(user_id).where(Organization.slug == slug))).first()
    return (row[0], row[1]) if row else None


async def find_organization_by_id_with_role(
    session: AsyncSession, organization_id: int, user_id: int | None
) -> tuple[Organization, str | None] | None:
    query = _with_role(user_id).where(Organization.id == organization_id)
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def find_project(session: AsyncSession, project_id: int) -> Project | None:
    return await session.get(Project, project_id)
