"""What a successful SSO sign-in does to accounts: find or link the account (or provision it),
the membership, a personal token's authorization, and the browser session marked as SSO."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.auth.changes import Change
from tokenward.auth.principal import Principal
from tokenward.auth.sessions import SessionCookies, hash_session_key
from tokenward.oidc.relying_party import Identity
from tokenward.policy import Role
from tokenward.store.audit import record_event
from tokenward.store.tables import (
    LoginSession,
    Membership,
    Organization,
    PersonalToken,
    SsoConfiguration,
    SsoIdentity,
    SsoLoginAttempt,
    SsoSessionSignIn,
    SsoTokenAuthorization,
    User,
    utcnow,
)

__all__ = [
    "SignInFailed",
    "account_for",
    "audit_as",
    "authorize_token",
    "mark_session",
    "membership_for",
]

# Accounts made by just-in-time provisioning have no password until they set one.
NO_PASSWORD = "!sso-only"


class SignInFailed(Exception):
    """A sign-in that cannot go on; ``message`` is for the person, ``status`` for the page."""

    def __init__(self, message: str, status: int = 400, *, provider_down: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.provider_down = provider_down


async def account_for(
    db: AsyncSession,
    organization: Organization,
    configuration: SsoConfiguration,
    who: Identity,
    *,
    invited: bool = False,
) -> tuple[User, SsoIdentity, bool, bool]:
    """The account for this identity: linked before, linked now by email, or provisioned (by the
    organization's auto-provisioning, or because ``who`` holds an invitation for its email)."""
    identity = await db.scalar(
        select(SsoIdentity).where(
            SsoIdentity.organization_id == organization.id,
            SsoIdentity.issuer == configuration.issuer,
            SsoIdentity.subject == who.subject,
        )
    )
    if identity is not None:
        user = await db.get(User, identity.user_id)
        assert user is not None
        return user, identity, False, False
    linked = provisioned = False
    user = await db.scalar(select(User).where(User.email == who.email))
    if user is not None:
        linked = True
    elif configuration.auto_provision or invited:
        user = User(email=who.email, name=who.name, password_hash=NO_PASSWORD)
        db.add(user)
        await db.flush()
        provisioned = True
    else:
        raise SignInFailed(
            f"There is no Tokenward account for {who.email}, and this organization does not "
            "create accounts on first sign-in. Ask an owner to invite you."
        )
    identity = SsoIdentity(
        organization_id=organization.id,
        issuer=configuration.issuer,
        subject=who.subject,
        user_id=user.id,
    )
    db.add(identity)
    return user, identity, linked, provisioned


def audit_as(
    db: AsyncSession,
    organization_id: int,
    user: User,
    event: str,
    data: dict[str, object],
    ip_address: str | None,
) -> None:
    record_event(
        db,
        organization_id=organization_id,
        event=event,
        actor_type="user",
        actor_id=str(user.id),
        actor_name=user.name or user.email,
        ip_address=ip_address,
        data={**data, "credential": {"kind": "sso"}},
    )


async def membership_for(
    db: AsyncSession,
    organization: Organization,
    configuration: SsoConfiguration,
    user: User,
    ip_address: str | None,
    *,
    invited: bool = False,
) -> tuple[Membership | None, list[Change]]:
    """The membership, or one auto-provisioning makes; none yet for someone ``invited``, whose
    membership (with the invited role) comes with accepting the invitation."""
    membership = await db.scalar(
        select(Membership).where(
            Membership.organization_id == organization.id, Membership.user_id == user.id
        )
    )
    if membership is not None or invited:
        return membership, []
    if not configuration.auto_provision:
        raise SignInFailed(
            f"{user.email} is not a member of {organization.name}. Ask an owner to add you."
        )
    membership = Membership(
        organization_id=organization.id, user_id=user.id, role=Role.MEMBER.value
    )
    db.add(membership)
    await db.flush()
    audit_as(
        db,
        organization.id,
        user,
        "member.add",
        {
            "member_id": str(membership.id),
            "user_id": str(user.id),
            "email": user.email,
            "role": Role.MEMBER.value,
            "source": "sso",
        },
        ip_address,
    )
    return membership, [Change.membership(organization.id, user.id)]


async def authorize_token(
    db: AsyncSession,
    attempt: SsoLoginAttempt,
    organization: Organization,
    user: User,
    membership: Membership,
    ip_address: str | None,
) -> tuple[PersonalToken, list[Change]]:
    if attempt.user_id != user.id:
        raise SignInFailed(
            "You signed in at the identity provider as someone other than the owner of this "
            "personal token; nothing was authorized."
        )
    token = await db.get(PersonalToken, attempt.token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise SignInFailed("This personal token no longer exists; nothing was authorized.")
    existing = await db.scalar(
        select(SsoTokenAuthorization).where(
            SsoTokenAuthorization.organization_id == organization.id,
            SsoTokenAuthorization.token_id == token.id,
        )
    )
    if existing is None:
        db.add(
            SsoTokenAuthorization(
                organization_id=organization.id,
                token_id=token.id,
                membership_id=membership.id,
                authorized_at=utcnow(),
            )
        )
    audit_as(
        db,
        organization.id,
        user,
        "personal-token.sso-authorize",
        {
            "token_id": str(token.id),
            "token_name": token.name,
            "token_last_characters": token.token_last_characters,
        },
        ip_address,
    )
    return token, [Change.personal_token(token.id)]


async def mark_session(
    db: AsyncSession,
    cookies: SessionCookies,
    user: User,
    organization_id: int,
    current: Principal | None,
    max_age: dt.timedelta,
    ip_address: str | None,
) -> tuple[str | None, list[Change]]:
    """Mark the browser's session of this user as signed in through SSO, or open a new one."""
    now = utcnow()
    if current is not None and current.user is not None and current.user.id == user.id:
        login = await db.scalar(
            select(LoginSession).where(LoginSession.key_hash == current.session_key_hash)
        )
        if login is not None:
            already = await db.scalar(
                select(SsoSessionSignIn.id).where(
                    SsoSessionSignIn.login_session_id == login.id,
                    SsoSessionSignIn.organization_id == organization_id,
                )
            )
            if already is None:
                db.add(SsoSessionSignIn(login_session_id=login.id, organization_id=organization_id))
            return None, [Change.session(login.id)]
    key = cookies.new_key()
    login = LoginSession(
        key_hash=hash_session_key(key),
        user_id=user.id,
        created_at=now,
        expires_at=now + max_age,
        ip_address=ip_address,
    )
    db.add(login)
    await db.flush()
    db.add(SsoSessionSignIn(login_session_id=login.id, organization_id=organization_id))
    return key, []
