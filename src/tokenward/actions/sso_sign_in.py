"""Signing in through an organization's identity provider, and authorizing a personal token the
same way. No store connection is held while the provider is asked (discovery, code exchange)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.sso_configuration import configuration_of, domains_of
from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.auth.principal import Principal
from tokenward.auth.sessions import SessionCookies, hash_session_key
from tokenward.oidc.provider import ProviderMetadata, ProviderUnreachable, fetch_metadata
from tokenward.oidc.relying_party import (
    Client,
    FlowSecrets,
    Identity,
    SignInRefused,
    authorization_url,
    finish,
)
from tokenward.policy import Role
from tokenward.store.audit import record_event
from tokenward.store.engine import Store
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
    "ATTEMPT_LIFETIME",
    "SignInFailed",
    "SignedIn",
    "StartedSignIn",
    "finish_sign_in",
    "start_sign_in",
]

log = logging.getLogger("tokenward.sso")

ATTEMPT_LIFETIME = dt.timedelta(minutes=10)
# Accounts made by just-in-time provisioning have no password until they set one.
NO_PASSWORD = "!sso-only"


class SignInFailed(Exception):
    """A sign-in that cannot go on; ``message`` is for the person, ``status`` for the page."""

    def __init__(self, message: str, status: int = 400, *, provider_down: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.provider_down = provider_down


@dataclass(frozen=True)
class StartedSignIn:
    url: str
    state: str

    def __repr__(self) -> str:
        return "StartedSignIn(...)"


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    organization_slug: str
    next_path: str | None
    session_key: str | None  # a new session to set as the cookie, or None to keep the current
    linked: bool
    provisioned: bool
    authorized_token: str | None  # the name of the personal token authorized, if any


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def _client(configuration: SsoConfiguration, redirect_uri: str) -> Client:
    return Client(configuration.client_id, configuration.client_secret, redirect_uri)


async def _organization_and_configuration(
    db: AsyncSession, slug: str
) -> tuple[Organization, SsoConfiguration]:
    organization = await db.scalar(select(Organization).where(Organization.slug == slug))
    configuration = await configuration_of(db, organization.id) if organization else None
    if organization is None or configuration is None:
        raise SignInFailed(f"There is no SSO sign-in for the organization '{slug}'.", 404)
    return organization, configuration


async def _record_failure(
    store: Store, organization_id: int, reason: str, ip_address: str | None
) -> None:
    log.warning("SSO sign-in failed for organization %s: %s", organization_id, reason)
    async with store.session() as db:
        record_event(
            db,
            organization_id=organization_id,
            event="sso.login-failed",
            actor_type="user",
            actor_id=None,
            actor_name="identity provider sign-in",
            ip_address=ip_address,
            data={"reason": reason},
        )
        await db.commit()


async def _provider(
    store: Store, organization_id: int, issuer: str, ip_address: str | None
) -> ProviderMetadata:
    try:
        return await fetch_metadata(issuer)
    except ProviderUnreachable as error:
        await _record_failure(store, organization_id, str(error), ip_address)
        raise SignInFailed(
            "The organization's identity provider cannot be reached right now, so you cannot "
            "sign in through it. Try again later. Owners can still reach the organization's "
            "SSO settings by signing in with their password.",
            502,
            provider_down=True,
        ) from None


async def start_sign_in(
    store: Store,
    slug: str,
    *,
    redirect_uri: str,
    next_path: str | None,
    token_id: int | None,
    principal: Principal | None,
    ip_address: str | None,
) -> StartedSignIn:
    """Record a single-use attempt and return where to send the browser."""
    async with store.session() as db:
        organization, configuration = await _organization_and_configuration(db, slug)
        user_id = None
        if token_id is not None:
            if principal is None or principal.user is None:
                raise SignInFailed("Sign in first to authorize a personal token.", 401)
            token = await db.get(PersonalToken, token_id)
            if token is None or token.user_id != principal.user.id or token.revoked_at is not None:
                raise SignInFailed("You have no such personal token.", 404)
            user_id = principal.user.id
        issuer, organization_id = configuration.issuer, organization.id
        client = _client(configuration, redirect_uri)
    provider = await _provider(store, organization_id, issuer, ip_address)
    flow = FlowSecrets.new()
    now = utcnow()
    async with store.session() as db:
        db.add(
            SsoLoginAttempt(
                state_hash=_state_hash(flow.state),
                organization_id=organization_id,
                nonce=flow.nonce,
                code_verifier=flow.code_verifier,
                next_path=next_path,
                user_id=user_id,
                token_id=token_id,
                created_at=now,
                expires_at=now + ATTEMPT_LIFETIME,
            )
        )
        await db.execute(delete(SsoLoginAttempt).where(SsoLoginAttempt.expires_at < now))
        await db.commit()
    return StartedSignIn(authorization_url(provider, client, flow), flow.state)


async def _take_attempt(store: Store, state: str) -> SsoLoginAttempt:
    """The attempt this state names, deleted in the same step: a second callback finds none."""
    async with store.session() as db:
        taken = await db.scalars(
            delete(SsoLoginAttempt)
            .where(SsoLoginAttempt.state_hash == _state_hash(state))
            .returning(SsoLoginAttempt)
        )
        attempt = taken.first()
        await db.commit()
    if attempt is None:
        raise SignInFailed(
            "This sign-in link was already used or is unknown. Start the sign-in again."
        )
    if attempt.expires_at < utcnow():
        raise SignInFailed("This sign-in took too long and expired. Start the sign-in again.")
    return attempt


def _check_identity(identity: Identity, configuration: SsoConfiguration) -> None:
    if not identity.email_verified:
        raise SignInFailed(
            "The identity provider has not verified your email address, so it cannot be used "
            "to sign in here."
        )
    domains = domains_of(configuration)
    domain = identity.email.rpartition("@")[2]
    if domains and domain not in domains:
        raise SignInFailed(
            f"Email addresses at {domain} cannot sign in to this organization through SSO "
            f"(allowed: {', '.join(domains)})."
        )


async def _user_for(
    db: AsyncSession, organization: Organization, configuration: SsoConfiguration, who: Identity
) -> tuple[User, SsoIdentity, bool, bool]:
    """The account for this identity: linked before, linked now by email, or provisioned."""
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
    elif configuration.auto_provision:
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


def _audit(
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


async def _membership(
    db: AsyncSession,
    organization: Organization,
    configuration: SsoConfiguration,
    user: User,
    ip_address: str | None,
) -> tuple[Membership, list[Change]]:
    membership = await db.scalar(
        select(Membership).where(
            Membership.organization_id == organization.id, Membership.user_id == user.id
        )
    )
    if membership is not None:
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
    _audit(
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


async def _authorize_token(
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
    _audit(
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


async def _mark_session(
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


async def finish_sign_in(
    store: Store,
    cookies: SessionCookies,
    *,
    state: str,
    code: str | None,
    provider_error: str | None,
    redirect_uri: str,
    current: Principal | None,
    max_age: dt.timedelta,
    ip_address: str | None,
) -> SignedIn:
    """Check everything the provider sent, then link or create the account and sign in."""
    attempt = await _take_attempt(store, state)
    async with store.session() as db:
        organization = await db.get(Organization, attempt.organization_id)
        configuration = await configuration_of(db, attempt.organization_id)
        if organization is None or configuration is None:
            raise SignInFailed("This organization no longer signs in through SSO.", 404)
        issuer, client = configuration.issuer, _client(configuration, redirect_uri)
    if provider_error is not None or not code:
        await _record_failure(
            store, organization.id, f"the identity provider answered {provider_error}", ip_address
        )
        raise SignInFailed("The identity provider did not sign you in; nothing was changed.")
    provider = await _provider(store, organization.id, issuer, ip_address)
    flow = FlowSecrets(state, attempt.nonce, attempt.code_verifier)
    try:
        who = await finish(provider, client, flow, code)
        _check_identity(who, configuration)
    except ProviderUnreachable as error:
        await _record_failure(store, organization.id, str(error), ip_address)
        raise SignInFailed(
            "The organization's identity provider cannot be reached right now. Try again later.",
            502,
            provider_down=True,
        ) from None
    except (SignInRefused, SignInFailed) as error:
        await _record_failure(store, organization.id, str(error), ip_address)
        raise SignInFailed(
            f"Signing in through the identity provider was refused: {error}. Nothing was changed."
        ) from None

    async with store.session() as db:
        # Read again: the configuration may have changed while the provider was asked.
        configuration = await configuration_of(db, organization.id)
        if configuration is None or configuration.issuer != issuer:
            raise SignInFailed("The organization's SSO settings changed; sign in again.")
        try:
            user, identity, linked, provisioned = await _user_for(
                db, organization, configuration, who
            )
            membership, changes = await _membership(
                db, organization, configuration, user, ip_address
            )
            authorized = None
            if attempt.token_id is not None:
                token, authorized_changes = await _authorize_token(
                    db, attempt, organization, user, membership, ip_address
                )
                authorized = token.name
                changes += authorized_changes
            key, session_changes = await _mark_session(
                db, cookies, user, organization.id, current, max_age, ip_address
            )
            identity.last_login_at = utcnow()
            _audit(
                db,
                organization.id,
                user,
                "sso.login",
                {"email": user.email, "linked": linked, "provisioned": provisioned},
                ip_address,
            )
            await commit_changes(db, *changes, *session_changes)
        except IntegrityError:
            await db.rollback()
            raise SignInFailed(
                "Another sign-in changed this account at the same time; try again."
            ) from None
        except SignInFailed as failure:
            await db.rollback()  # nothing of this sign-in is kept
            await _record_failure(store, organization.id, failure.message, ip_address)
            raise
        return SignedIn(
            user_id=user.id,
            organization_slug=organization.slug,
            next_path=attempt.next_path,
            session_key=key,
            linked=linked,
            provisioned=provisioned,
            authorized_token=authorized,
        )
