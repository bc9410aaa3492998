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

from tokenward.actions.invitations import InvitationUnusable
from tokenward.actions.signed_in_invitations import (
    InvitationForSomeoneElse,
    invitation_for_identity,
)
from tokenward.actions.sso_accounts import (
    SignInFailed,
    account_for,
    audit_as,
    authorize_token,
    mark_session,
    membership_for,
)
from tokenward.actions.sso_configuration import configuration_of, domains_of
from tokenward.auth.coherence import commit_changes
from tokenward.auth.principal import Principal
from tokenward.auth.sessions import SessionCookies
from tokenward.oidc.provider import ProviderMetadata, ProviderUnreachable, fetch_metadata
from tokenward.oidc.relying_party import (
    Client,
    FlowSecrets,
    Identity,
    SignInRefused,
    authorization_url,
    finish,
)
from tokenward.sso_urls import ACCEPT_INVITATION_PATH
from tokenward.store.audit import record_event
from tokenward.store.engine import Store
from tokenward.store.tables import (
    Organization,
    PersonalToken,
    SsoConfiguration,
    SsoLoginAttempt,
    utcnow,
)

__all__ = ["ATTEMPT_LIFETIME", "SignInFailed", "SignedIn", "finish_sign_in", "start_sign_in"]

log = logging.getLogger("tokenward.sso")

ATTEMPT_LIFETIME = dt.timedelta(minutes=10)


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
    invitation_key: str | None = None,
) -> SignedIn:
    """Check everything the provider sent, then link or create the account and sign in.

    A sign-in started to accept an invitation needs ``invitation_key`` (from the browser's
    cookie): an identity with the invited email may then get an account without the
    organization's auto-provisioning, and becomes a member when the invitation is accepted.
    """
    attempt = await _take_attempt(store, state)
    for_invitation = attempt.next_path == ACCEPT_INVITATION_PATH
    if for_invitation and invitation_key is None:
        raise SignInFailed(
            "This sign-in was started to accept an invitation, but this browser no longer holds "
            "it (it is kept for 15 minutes). Open the link in your invitation email again; "
            "nothing was changed."
        )
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
            invited = False
            if for_invitation and invitation_key is not None:
                await invitation_for_identity(db, invitation_key, organization.id, who.email)
                invited = True
            user, identity, linked, provisioned = await account_for(
                db, organization, configuration, who, invited=invited
            )
            membership, changes = await membership_for(
                db, organization, configuration, user, ip_address, invited=invited
            )
            authorized = None
            if attempt.token_id is not None:
                if membership is None:
                    raise SignInFailed(f"{user.email} is not a member of {organization.name}.")
                token, authorized_changes = await authorize_token(
                    db, attempt, organization, user, membership, ip_address
                )
                authorized = token.name
                changes += authorized_changes
            key, session_changes = await mark_session(
                db, cookies, user, organization.id, current, max_age, ip_address
            )
            identity.last_login_at = utcnow()
            audit_as(
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
        except InvitationForSomeoneElse as other:
            await db.rollback()
            reason = f"signed in as another email than the invited {other.invited}"
            await _record_failure(store, organization.id, reason, ip_address)
            raise
        except InvitationUnusable:
            await db.rollback()
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
