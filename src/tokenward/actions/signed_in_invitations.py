"""Accepting an invitation as someone already known: an account signed in here, or an identity
the organization's SSO has just verified. The invited email is the whole authorization, so an
account or identity with any other email is refused and the invitation stays usable."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.accounts import normalize_email
from tokenward.actions.invitations import (
    InvitationUnusable,
    find_usable_invitation,
    join,
    lock_usable,
    refuse_without_sso,
)
from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.auth.principal import Principal
from tokenward.store.tables import (
    Invitation,
    LoginSession,
    Organization,
    SsoSessionSignIn,
    User,
)

__all__ = [
    "InvitationForSomeoneElse",
    "invitation_for_identity",
    "join_signed_in",
]


def _masked(email: str) -> str:
    """Enough of an address for its owner to recognize it: ``j***e@example.com``."""
    local, _, domain = email.partition("@")
    shown = local[0] + "***" + local[-1] if len(local) > 2 else local[:1] + "***"
    return f"{shown}@{domain}"


class InvitationForSomeoneElse(InvitationUnusable):
    """Usable, but not by this account or identity: its email is not the invited one."""

    def __init__(self, invited_email: str) -> None:
        super().__init__("another-email")
        self.invited = _masked(invited_email)


async def invitation_for_identity(
    db: AsyncSession, key: str, organization_id: int, email: str
) -> Invitation:
    """The usable invitation of this organization behind ``key``, if it is for ``email``."""
    invitation, organization = await find_usable_invitation(db, key)
    if organization.id != organization_id:
        raise InvitationUnusable("unknown")
    if normalize_email(email) != invitation.email:
        raise InvitationForSomeoneElse(invitation.email)
    return invitation


async def _signed_in_through_sso(
    db: AsyncSession, principal: Principal, organization_id: int
) -> bool:
    found = await db.scalar(
        select(SsoSessionSignIn.id)
        .join(LoginSession, LoginSession.id == SsoSessionSignIn.login_session_id)
        .where(
            LoginSession.key_hash == principal.session_key_hash,
            SsoSessionSignIn.organization_id == organization_id,
        )
    )
    return found is not None


async def join_signed_in(
    db: AsyncSession,
    key: str,
    principal: Principal,
    *,
    through_sso: bool,
    ip_address: str | None,
) -> Organization:
    """Make the signed-in account a member with the invited role, when its email is the invited
    one; ``through_sso`` also needs this session to have signed in through the organization."""
    invitation, organization = await find_usable_invitation(db, key)
    user = await db.get(User, principal.user_id)
    if user is None or normalize_email(user.email) != invitation.email:
        raise InvitationForSomeoneElse(invitation.email)
    if not through_sso:
        refuse_without_sso(organization)
    elif not await _signed_in_through_sso(db, principal, organization.id):
        raise InvitationUnusable("sso-unfinished")
    invitation, organization = await lock_usable(db, invitation.id, organization.id)
    await join(
        db,
        invitation,
        organization,
        user,
        via="sso" if through_sso else "session",
        ip_address=ip_address,
    )
    await commit_changes(db, Change.membership(organization.id, user.id))
    return organization
