"""Memberships: add an existing user, change a role, remove; owners are managed only by owners."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.audit import audit
from tokenward.actions.sso_configuration import end_session_sign_ins, lapse_for_member
from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.auth.organization_context import OrganizationContext
from tokenward.errors import ApiError
from tokenward.policy import Requirement, Role, role_needed_to_manage
from tokenward.store.admission import AdmittedOrganization, admitted_id
from tokenward.store.ids import parse_id
from tokenward.store.tables import Membership, User, utcnow

__all__ = [
    "add_member",
    "change_role",
    "find_member",
    "has_account",
    "members_listed",
    "members_of",
    "owners_of",
    "remove_member",
]


def members_of(organization: AdmittedOrganization) -> Select[Membership, User]:
    return (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == admitted_id(organization))
    )


async def owners_of(db: AsyncSession, organization: AdmittedOrganization) -> list[User]:
    """The organization's owners, by email."""
    query = members_of(organization).where(Membership.role == Role.OWNER.value)
    return [user for _, user in (await db.execute(query.order_by(User.email))).all()]


async def find_member(context: OrganizationContext, member_id: str) -> tuple[Membership, User]:
    row = None
    wanted = parse_id(member_id)
    if wanted is not None:
        query = members_of(context.admitted).where(Membership.id == wanted)
        row = (await context.db.execute(query)).first()
    if row is None:
        raise ApiError.not_found()
    return row[0], row[1]


async def has_account(db: AsyncSession, email: str) -> bool:
    found = await db.scalar(
        select(func.count()).select_from(User).where(User.email == email.strip().lower())
    )
    return bool(found)


async def _owner_count(db: AsyncSession, organization_id: int) -> int:
    owners = (
        select(Membership.id)
        .where(Membership.organization_id == organization_id, Membership.role == Role.OWNER.value)
        .with_for_update()
    )
    return len((await db.scalars(owners)).all())


def _require_role_to_manage(
    context: OrganizationContext, target: Role | None, new: Role | None, scope: str
) -> None:
    needed = role_needed_to_manage(target, new)
    if needed is not None:
        context.require(Requirement(scope, minimum_role=needed))


def _with_source(data: dict[str, Any], source: str | None) -> dict[str, Any]:
    """Audit data, naming where a change came from when not the API or pages (e.g. "scim")."""
    return {**data, "source": source} if source is not None else data


async def add_member(
    context: OrganizationContext, *, email: str, role: Role, source: str | None = None
) -> tuple[Membership, User]:
    _require_role_to_manage(context, None, role, "member:write")
    db = context.db
    user = await db.scalar(select(User).where(User.email == email))
    if user is None:
        raise ApiError.invalid("email", "No user has this email address; they must sign up first.")
    exists = await db.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == context.organization.id, Membership.user_id == user.id)
    )
    if exists:
        raise ApiError.conflict(f"{email} is already a member of this organization.")
    membership = Membership(
        organization_id=context.organization.id,
        user_id=user.id,
        role=role.value,
        created_at=utcnow(),
    )
    db.add(membership)
    await db.flush()
    audit(
        context,
        "member.add",
        _with_source(
            {
                "member_id": str(membership.id),
                "user_id": str(user.id),
                "email": user.email,
                "role": role.value,
            },
            source,
        ),
    )
    await commit_changes(db, Change.membership(context.organization.id, user.id))
    return membership, user


async def change_role(
    context: OrganizationContext, member_id: str, new_role: Role, *, source: str | None = None
) -> tuple[Membership, User]:
    membership, user = await find_member(context, member_id)
    old_role = Role(membership.role)
    _require_role_to_manage(context, old_role, new_role, "member:write")
    if old_role is new_role:
        return membership, user
    if old_role is Role.OWNER and await _owner_count(context.db, context.organization.id) <= 1:
        raise ApiError.conflict("The last owner cannot be demoted; make someone else owner first.")
    membership.role = new_role.value
    audit(
        context,
        "member.edit",
        _with_source(
            {
                "member_id": str(membership.id),
                "user_id": str(user.id),
                "email": user.email,
                "changes": {"role": {"old": old_role.value, "new": new_role.value}},
            },
            source,
        ),
    )
    await commit_changes(context.db, Change.membership(context.organization.id, user.id))
    return membership, user


async def remove_member(
    context: OrganizationContext, member_id: str, *, source: str | None = None
) -> None:
    membership, user = await find_member(context, member_id)
    role = Role(membership.role)
    _require_role_to_manage(context, role, None, "member:write")
    if role is Role.OWNER and await _owner_count(context.db, context.organization.id) <= 1:
        raise ApiError.conflict("The last owner cannot be removed; make someone else owner first.")
    lapsed = await lapse_for_member(context.db, membership.id)
    lapsed += await end_session_sign_ins(context.db, context.organization.id, user.id)
    await context.db.delete(membership)
    audit(
        context,
        "member.remove",
        _with_source(
            {
                "member_id": str(membership.id),
                "user_id": str(user.id),
                "email": user.email,
                "role": role.value,
            },
            source,
        ),
    )
    await commit_changes(context.db, Change.membership(context.organization.id, user.id), *lapsed)


async def members_listed(
    db: AsyncSession, organization: AdmittedOrganization, *, limit: int
) -> list[tuple[Membership, User]]:
    """The organization's first ``limit`` members, oldest membership first."""
    rows = await db.execute(members_of(organization).order_by(Membership.id).limit(limit))
    return [(membership, user) for membership, user in rows.all()]
