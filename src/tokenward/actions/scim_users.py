"""People an organization's identity provider manages through SCIM.

A SCIM User is one person's place in one organization: ``userName`` is the account's email,
``active`` is whether the membership exists, the extension's ``role`` is its role (never owner).
Memberships start, change and end through the same actions as the API's, so caches and other
processes learn of it the same way, and the audit log says ``source: "scim"``. The record stays
after a deactivation, so the identity provider can read it and turn it on again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from scim2_models import (
    InvalidValueException,
    MutabilityException,
    NotFoundException,
    UniquenessException,
)
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tokenward.actions.members import add_member, change_role, remove_member
from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.auth.organization_context import OrganizationContext
from tokenward.policy import Role
from tokenward.request_bodies import Email
from tokenward.scim.schema import ROLES, ScimUserModel, TokenwardUser
from tokenward.store.admission import AdmittedOrganization, admitted_id
from tokenward.store.ids import parse_id
from tokenward.store.tables import Membership, ScimUser, User, utcnow

__all__ = [
    "ScimRecord",
    "create_scim_user",
    "delete_scim_user",
    "find_scim_user",
    "list_scim_users",
    "managed_user_ids",
    "replace_scim_user",
]

SOURCE = "scim"
# Accounts made for the identity provider have no password until their owner sets one.
UNUSABLE_PASSWORD = "!scim"
# Attributes with a home of their own (the account, the record), or never kept. ``active`` and
# the role extension are kept as sent, to know whether to show them; the membership says their
# value.
_NOT_KEPT = frozenset({"schemas", "id", "meta", "userName", "externalId", "password"})
_EMAIL = TypeAdapter(Email)


@dataclass(frozen=True)
class ScimRecord:
    scim_user: ScimUser
    user: User
    membership: Membership | None

    @property
    def role(self) -> str:
        return self.membership.role if self.membership is not None else self.scim_user.role


def _records(organization_id: int) -> Select[ScimUser, User, Membership]:
    member = aliased(Membership)
    return (
        select(ScimUser, User, member)
        .join(User, User.id == ScimUser.user_id)
        .outerjoin(
            member,
            (member.organization_id == ScimUser.organization_id)
            & (member.user_id == ScimUser.user_id),
        )
        .where(ScimUser.organization_id == organization_id)
    )


async def find_scim_user(context: OrganizationContext, scim_id: str) -> ScimRecord:
    wanted = parse_id(scim_id)
    row = None
    if wanted is not None:
        query = _records(context.organization.id).where(ScimUser.id == wanted)
        row = (await context.db.execute(query)).first()
    if row is None:
        raise NotFoundException(detail=f"No User with the id {scim_id!r} here.")
    return ScimRecord(row[0], row[1], row[2])


async def list_scim_users(
    context: OrganizationContext,
    *,
    user_name: str | None,
    external_id: str | None,
    start_index: int,
    count: int,
) -> tuple[int, list[ScimRecord]]:
    """The total matching, and ``count`` of them from the 1-based ``start_index``."""
    query = _records(context.organization.id)
    if user_name is not None:
        query = query.where(User.email == user_name.strip().lower())
    if external_id is not None:
        query = query.where(ScimUser.external_id == external_id)
    total = await context.db.scalar(select(func.count()).select_from(query.subquery()))
    if count <= 0:
        return int(total or 0), []
    page = query.order_by(ScimUser.id).offset(start_index - 1).limit(count)
    rows = (await context.db.execute(page)).all()
    return int(total or 0), [ScimRecord(row[0], row[1], row[2]) for row in rows]


async def managed_user_ids(db: AsyncSession, organization: AdmittedOrganization) -> frozenset[int]:
    """The users of this organization its identity provider manages."""
    query = select(ScimUser.user_id).where(ScimUser.organization_id == admitted_id(organization))
    return frozenset((await db.scalars(query)).all())


def _email(resource: ScimUserModel) -> str:
    try:
        return _EMAIL.validate_python(resource.user_name or "")
    except ValidationError:
        raise InvalidValueException(detail="userName must be the person's email address.") from None


def _requested_role(resource: ScimUserModel) -> Role | None:
    extension = resource[TokenwardUser]
    wanted = extension.role if extension is not None else None
    if wanted is None:
        return None
    wanted = wanted.strip().lower()
    if wanted not in ROLES:
        raise InvalidValueException(
            detail=f"role must be one of {', '.join(ROLES)}; owners are made by owners only."
        )
    return Role(wanted)


def _kept(resource: ScimUserModel) -> dict[str, Any]:
    dumped = resource.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {key: value for key, value in dumped.items() if key not in _NOT_KEPT}


def _display_name(resource: ScimUserModel, email: str) -> str:
    name = resource.name
    candidates = [
        resource.display_name,
        name.formatted if name is not None else None,
        " ".join(part for part in (name.given_name, name.family_name) if part)
        if name is not None
        else None,
    ]
    chosen = next((c.strip() for c in candidates if c and c.strip()), email.split("@")[0])
    return chosen[:200]


async def _sync_membership(
    context: OrganizationContext,
    record: ScimUser,
    user: User,
    membership: Membership | None,
    *,
    active: bool,
    role: Role | None,
) -> None:
    """Make the membership match the record, then commit everything in one transaction."""
    if membership is not None and not active:
        await remove_member(context, str(membership.id), source=SOURCE)
    elif membership is not None and role is not None and Role(membership.role) is not role:
        await change_role(context, str(membership.id), role, source=SOURCE)
    elif membership is None and active:
        await add_member(context, email=user.email, role=Role(record.role), source=SOURCE)
    else:
        await commit_changes(context.db)


async def create_scim_user(context: OrganizationContext, resource: ScimUserModel) -> ScimRecord:
    db = context.db
    email = _email(resource)
    role = _requested_role(resource)
    user = await db.scalar(select(User).where(User.email == email))
    if user is not None:
        taken = await db.scalar(
            select(func.count())
            .select_from(ScimUser)
            .where(ScimUser.organization_id == context.organization.id, ScimUser.user_id == user.id)
        )
        if taken:
            raise UniquenessException(detail=f"A User with the userName {email} exists here.")
    else:
        user = User(
            email=email,
            name=_display_name(resource, email),
            password_hash=UNUSABLE_PASSWORD,
        )
        db.add(user)
        await db.flush()
    membership = await db.scalar(
        select(Membership).where(
            Membership.organization_id == context.organization.id, Membership.user_id == user.id
        )
    )
    now = utcnow()
    # An existing member keeps their role unless the identity provider names one.
    kept_role = Role(membership.role) if membership is not None else Role.MEMBER
    record = ScimUser(
        organization_id=context.organization.id,
        user_id=user.id,
        external_id=resource.external_id,
        active=resource.active is not False,
        role=(role or kept_role).value,
        attributes=_kept(resource),
        created_at=now,
        updated_at=now,
    )
    db.add(record)
    await db.flush()
    await _sync_membership(context, record, user, membership, active=record.active, role=role)
    return await find_scim_user(context, str(record.id))


async def _rename(context: OrganizationContext, user: User, email: str) -> None:
    """A new userName: allowed for an account the identity provider made and that nothing
    else uses; any other account's email is its owner's to change."""
    db = context.db
    if await db.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise UniquenessException(detail=f"Another account has the email {email}.")
    elsewhere = await db.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.user_id == user.id, Membership.organization_id != context.organization.id)
    )
    if user.password_hash != UNUSABLE_PASSWORD or elsewhere:
        raise MutabilityException(
            detail="userName cannot change: this account is used outside this identity provider."
        )
    user.email = email


async def replace_scim_user(
    context: OrganizationContext, scim_id: str, resource: ScimUserModel
) -> ScimRecord:
    """PUT, and PATCH once applied: every kept attribute is replaced by what was sent."""
    found = await find_scim_user(context, scim_id)
    record, user = found.scim_user, found.user
    email = _email(resource)
    role = _requested_role(resource)
    renamed = email != user.email
    if renamed:
        await _rename(context, user, email)
    record.external_id = resource.external_id
    record.active = resource.active is not False
    if role is not None:
        record.role = role.value
    record.attributes = _kept(resource)
    record.updated_at = max(utcnow(), record.updated_at + dt.timedelta(microseconds=1))
    await _sync_membership(context, record, user, found.membership, active=record.active, role=role)
    if renamed:  # committed above with the rest; now every process forgets the old address
        await commit_changes(context.db, Change.user(user.id))
    return await find_scim_user(context, scim_id)


async def delete_scim_user(context: OrganizationContext, scim_id: str) -> None:
    found = await find_scim_user(context, scim_id)
    await context.db.delete(found.scim_user)
    await _sync_membership(
        context, found.scim_user, found.user, found.membership, active=False, role=None
    )
