"""The queries admission runs: an organization (by slug, or via an object in it) with the
caller's membership role there. Outsiders get the organization with no role."""

from __future__ import annotations

import re

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.store.tables import (
    SLUG_PATTERN,
    Membership,
    Organization,
    PersonalTokenRevocation,
    Project,
)

_SLUG = re.compile(SLUG_PATTERN)

__all__ = [
    "find_organization_by_id_with_role",
    "find_organization_with_role",
    "find_project",
    "find_role",
    "is_revoked_here",
]


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


async def find_role(session: AsyncSession, organization_id: int, user_id: int) -> str | None:
    """The user's role in the organization, or None for a non-member."""
    return await session.scalar(
        select(Membership.role).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    )


async def find_project(session: AsyncSession, project_id: int) -> Project | None:
    return await session.get(Project, project_id)


async def is_revoked_here(session: AsyncSession, organization_id: int, token_id: int) -> bool:
    """Whether an owner or manager cut this personal token off from the organization."""
    found = await session.scalar(
        select(PersonalTokenRevocation.id).where(
            PersonalTokenRevocation.organization_id == organization_id,
            PersonalTokenRevocation.token_id == token_id,
        )
    )
    return found is not None
