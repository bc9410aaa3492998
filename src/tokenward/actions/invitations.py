"""Invitations: an emailed, single-use link that turns an unknown email into a member.

The link carries a key that is never stored: the invitation keeps its SHA-256, and the queued
email a sealed seed the sender turns into the key (``notices.sealed_links``). Resending mints a
new key (the old link stops working) and gives the invitation seven more days.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.accounts import normalize_email
from tokenward.actions.audit import audit, record_audit
from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.auth.organization_context import OrganizationContext
from tokenward.auth.principal import Principal, UserIdentity
from tokenward.auth.sessions import SessionCookies, hash_session_key
from tokenward.errors import ApiError
from tokenward.notices.messages import invitation_notice
from tokenward.notices.outbox import enqueue
from tokenward.notices.sealed_links import derive_key, new_seed, sealed
from tokenward.passwords import hash_password, verify_password
from tokenward.policy import Credential, CredentialKind, Requirement, Role, role_needed_to_manage
from tokenward.store.admission import AdmittedOrganization, admitted_id
from tokenward.store.ids import parse_id
from tokenward.store.tables import (
    Invitation,
    LoginSession,
    Membership,
    Organization,
    User,
    utcnow,
)

__all__ = [
    "InvitationUnusable",
    "LinkMaker",
    "accept_invitation",
    "find_usable_invitation",
    "invitation_status",
    "invite",
    "join",
    "lock_usable",
    "pending_invitations_listed",
    "pending_invitations_of",
    "refuse_without_sso",
    "resend_invitation",
    "revoke_invitation",
]

INVITATION_LIFETIME = dt.timedelta(days=7)


class InvitationUnusable(Exception):
    """The link is unknown, expired, revoked or already used; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AcceptedInvitation:
    user: User
    organization: Organization
    session_key: str


def hash_invitation_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def invitation_status(invitation: Invitation, now: dt.datetime | None = None) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= (now or utcnow()):
        return "expired"
    return "invited"


def pending_invitations_of(organization: AdmittedOrganization) -> Select[Invitation]:
    """Invitations neither accepted nor revoked (expired ones stay listed, to be resent)."""
    return select(Invitation).where(
        Invitation.organization_id == admitted_id(organization),
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
    )


@dataclass(frozen=True)
class LinkMaker:
    """Where links point (``TOKENWARD_BASE_URL`` or the request's) and the key they derive from."""

    base_url: str
    secret_key: str


def _new_link(invitation: Invitation, links: LinkMaker) -> str:
    """A fresh key for ``invitation`` (its hash stored), and the sealed link to email."""
    seed = new_seed()
    invitation.key_hash = hash_invitation_key(derive_key(links.secret_key, seed))
    return f"{links.base_url}/accept-invite/{sealed(seed)}/"


def _send(context: OrganizationContext, invitation: Invitation, link: str) -> None:
    notice = invitation_notice(
        organization_name=context.organization.name,
        inviter=context.principal.actor_name,
        role=invitation.role,
        accept_url=link,
        expires_at=invitation.expires_at,
    )
    enqueue(
        context.db,
        recipient=invitation.email,
        subject=notice.subject,
        body=notice.body,
        kind="invitation",
    )


def _audit_data(invitation: Invitation) -> dict[str, str]:
    return {"invitation_id": str(invitation.id), "email": invitation.email, "role": invitation.role}


async def invite(
    context: OrganizationContext, *, email: str, role: Role, links: LinkMaker
) -> Invitation:
    """Invite an email that has no account yet; an owner invitation needs an owner."""
    needed = role_needed_to_manage(None, role)
    if needed is not None:
        context.require(Requirement("member:write", minimum_role=needed))
    email = normalize_email(email)
    db = context.db
    now = utcnow()
    pending = await db.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(
            Invitation.organization_id == context.organization.id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    )
    if pending:
        raise ApiError.conflict(f"{email} is already invited; resend or revoke that invitation.")
    user = context.principal.user
    invitation = Invitation(
        organization_id=context.organization.id,
        email=email,
        role=role.value,
        invited_by_id=user.id if user is not None else None,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    link = _new_link(invitation, links)
    db.add(invitation)
    await db.flush()
    _send(context, invitation, link)
    audit(context, "member.invite", _audit_data(invitation))
    await commit_changes(db)
    return invitation


async def _pending(context: OrganizationContext, invitation_id: str) -> Invitation:
    wanted = parse_id(invitation_id)
    invitation = None
    if wanted is not None:
        invitation = await context.db.scalar(
            pending_invitations_of(context.admitted).where(Invitation.id == wanted)
        )
    if invitation is None:
        raise ApiError.not_found()
    needed = role_needed_to_manage(None, Role(invitation.role))
    if needed is not None:
        context.require(Requirement("member:write", minimum_role=needed))
    return invitation


async def resend_invitation(
    context: OrganizationContext, invitation_id: str, *, links: LinkMaker
) -> Invitation:
    """A new link (the old one stops working) and seven more days."""
    invitation = await _pending(context, invitation_id)
    link = _new_link(invitation, links)
    invitation.expires_at = utcnow() + INVITATION_LIFETIME
    _send(context, invitation, link)
    audit(context, "member.invite-resend", _audit_data(invitation))
    await commit_changes(context.db)
    return invitation


async def revoke_invitation(context: OrganizationContext, invitation_id: str) -> Invitation:
    invitation = await _pending(context, invitation_id)
    invitation.revoked_at = utcnow()
    audit(context, "member.invite-revoke", _audit_data(invitation))
    await commit_changes(context.db)
    return invitation


async def find_usable_invitation(db: AsyncSession, key: str) -> tuple[Invitation, Organization]:
    """The invitation behind a link, or ``InvitationUnusable`` saying why it cannot be used."""
    row = None
    if 0 < len(key) <= 100:
        row = (
            await db.execute(
                select(Invitation, Organization)
                .join(Organization, Organization.id == Invitation.organization_id)
                .where(Invitation.key_hash == hash_invitation_key(key))
            )
        ).first()
    if row is None:
        raise InvitationUnusable("unknown")
    invitation, organization = row[0], row[1]
    status = invitation_status(invitation)
    if status != "invited":
        raise InvitationUnusable(status)
    return invitation, organization


def refuse_without_sso(organization: Organization) -> None:
    """An organization that requires SSO takes new members only through it."""
    if organization.require_sso:
        raise InvitationUnusable("sso-required")


async def lock_usable(
    db: AsyncSession, invitation_id: int, organization_id: int
) -> tuple[Invitation, Organization]:
    """A fresh, locked read: two tabs accepting the same link let exactly one through. Fresh
    even when the caller read the invitation earlier in this session: the ORM would otherwise
    hand back that earlier, unlocked state."""
    locked = await db.scalar(
        select(Invitation)
        .where(Invitation.id == invitation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None or invitation_status(locked) != "invited":
        raise InvitationUnusable(invitation_status(locked) if locked is not None else "unknown")
    organization = await db.get(Organization, organization_id)
    if organization is None:
        raise InvitationUnusable("unknown")
    return locked, organization


async def join(
    db: AsyncSession,
    invitation: Invitation,
    organization: Organization,
    user: User,
    *,
    via: str,
    ip_address: str | None,
) -> None:
    """Mark the invitation used and make ``user`` a member with its role (kept if already one);
    ``via`` says how the person proved who they are (password, sso, session)."""
    now = utcnow()
    invitation.accepted_at = now
    member = await db.scalar(
        select(Membership).where(
            Membership.organization_id == organization.id, Membership.user_id == user.id
        )
    )
    if member is None:
        member = Membership(
            organization_id=organization.id, user_id=user.id, role=invitation.role, created_at=now
        )
        db.add(member)
        await db.flush()
    principal = Principal(
        Credential(CredentialKind.SESSION),
        user=UserIdentity(user.id, user.email, user.name),
    )
    record_audit(
        db,
        principal,
        organization.id,
        "member.accept-invite",
        {
            **_audit_data(invitation),
            "member_id": str(member.id),
            "user_id": str(user.id),
            "via": via,
        },
        ip_address,
    )


async def accept_invitation(
    db: AsyncSession,
    key: str,
    *,
    name: str,
    password: str,
    max_age: dt.timedelta,
    ip_address: str | None,
) -> AcceptedInvitation:
    """Create the account (or check the password of the one made since), join, sign in."""
    invitation, organization = await find_usable_invitation(db, key)
    refuse_without_sso(organization)
    invitation_id, organization_id = invitation.id, organization.id
    user = await db.scalar(select(User).where(User.email == invitation.email))
    user_id = user.id if user is not None else None
    stored_hash = user.password_hash if user is not None else None
    await db.rollback()  # nothing is held while the password is hashed or checked
    password_hash: str | None = None
    if user_id is None:
        if not name.strip():
            raise ApiError.invalid("name", "Enter your name.")
        if len(password) < 8:
            raise ApiError.invalid("password", "must be at least 8 characters long")
        password_hash = await asyncio.to_thread(hash_password, password)
    else:
        matches = await asyncio.to_thread(verify_password, stored_hash, password)
        if not matches:
            raise ApiError(
                401, "invalid-credentials", "The password of your existing account is not correct."
            )
    invitation, organization = await lock_usable(db, invitation_id, organization_id)
    user = await db.get(User, user_id) if user_id is not None else None
    if user is None:
        if password_hash is None:  # the account checked above was deleted meanwhile
            raise ApiError.conflict("Your account changed meanwhile; open the link again.")
        user = User(email=invitation.email, name=name.strip()[:200], password_hash=password_hash)
        db.add(user)
        await db.flush()
    await join(db, invitation, organization, user, via="password", ip_address=ip_address)
    now = utcnow()
    session_key = SessionCookies.new_key()
    db.add(
        LoginSession(
            key_hash=hash_session_key(session_key),
            user_id=user.id,
            created_at=now,
            expires_at=now + max_age,
            ip_address=ip_address,
        )
    )
    await commit_changes(db, Change.membership(organization.id, user.id))
    return AcceptedInvitation(user, organization, session_key)


async def pending_invitations_listed(
    db: AsyncSession, organization: AdmittedOrganization, *, limit: int
) -> Sequence[Invitation]:
    """The organization's first ``limit`` pending invitations, oldest first."""
    query = pending_invitations_of(organization).order_by(Invitation.id).limit(limit)
    return (await db.scalars(query)).all()
