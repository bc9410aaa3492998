"""An organization's OpenID Connect configuration: read, save (after checking the issuer's
discovery document), remove; and the lapse of token authorizations it causes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.audit import audit
from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.auth.organization_context import OrganizationContext
from tokenward.errors import ApiError
from tokenward.oidc.provider import ProviderUnreachable, fetch_metadata, issuer_problem
from tokenward.store.tables import (
    LoginSession,
    SsoConfiguration,
    SsoSessionSignIn,
    SsoTokenAuthorization,
    utcnow,
)

__all__ = [
    "ConfigurationInput",
    "configuration_of",
    "domains_of",
    "end_session_sign_ins",
    "lapse_authorizations",
    "lapse_for_member",
    "remove_configuration",
    "save_configuration",
]


@dataclass(frozen=True)
class ConfigurationInput:
    issuer: str
    client_id: str
    client_secret: str | None
    allowed_domains: list[str]
    auto_provision: bool

    def __repr__(self) -> str:
        return f"ConfigurationInput(issuer={self.issuer!r}, client_id={self.client_id!r})"


def domains_of(configuration: SsoConfiguration) -> list[str]:
    return configuration.allowed_domains.split()


async def configuration_of(db: AsyncSession, organization_id: int) -> SsoConfiguration | None:
    found: SsoConfiguration | None = await db.scalar(
        select(SsoConfiguration).where(SsoConfiguration.organization_id == organization_id)
    )
    return found


async def lapse_authorizations(
    db: AsyncSession, organization_id: int, token_id: int | None = None
) -> list[Change]:
    """Delete the organization's personal-token authorizations (or one token's); the changes
    that make every process forget them."""
    statement = delete(SsoTokenAuthorization).where(
        SsoTokenAuthorization.organization_id == organization_id
    )
    if token_id is not None:
        statement = statement.where(SsoTokenAuthorization.token_id == token_id)
    lapsed = await db.scalars(statement.returning(SsoTokenAuthorization.token_id))
    return [Change.personal_token(lapsed_id) for lapsed_id in lapsed.all()]


async def lapse_for_member(db: AsyncSession, membership_id: int) -> list[Change]:
    """A member who leaves takes their tokens' authorizations along (every process forgets)."""
    lapsed = await db.scalars(
        delete(SsoTokenAuthorization)
        .where(SsoTokenAuthorization.membership_id == membership_id)
        .returning(SsoTokenAuthorization.token_id)
    )
    return [Change.personal_token(token_id) for token_id in lapsed.all()]


async def end_session_sign_ins(
    db: AsyncSession, organization_id: int, user_id: int | None = None
) -> list[Change]:
    """Forget that sessions (all, or one person's) signed in through the organization's
    provider: after a new provider or client, or once the person leaves, a session must sign
    in through SSO again. The changes make every process forget it too."""
    statement = delete(SsoSessionSignIn).where(SsoSessionSignIn.organization_id == organization_id)
    if user_id is not None:
        statement = statement.where(
            SsoSessionSignIn.login_session_id.in_(
                select(LoginSession.id).where(LoginSession.user_id == user_id)
            )
        )
    ended = await db.scalars(statement.returning(SsoSessionSignIn.login_session_id))
    return [Change.session(login_id) for login_id in ended.all()]


async def save_configuration(
    context: OrganizationContext, given: ConfigurationInput
) -> SsoConfiguration:
    """Check the issuer, then create or update. A new issuer or client ends every authorization."""
    problem = issuer_problem(given.issuer)
    if problem is not None:
        raise ApiError.invalid("issuer", problem)
    db, organization = context.db, context.organization
    current = await configuration_of(db, organization.id)
    same_client = current is not None and (
        current.issuer == given.issuer and current.client_id == given.client_id
    )
    if given.client_secret is None and not same_client:
        raise ApiError.invalid(
            "client_secret", "is required when SSO is first set up or the issuer or client changes"
        )
    await db.commit()  # nothing of ours is held while the provider is asked
    try:
        await fetch_metadata(given.issuer)
    except ProviderUnreachable as error:
        raise ApiError.invalid("issuer", f"the issuer was not accepted: {error}") from None

    current = await configuration_of(db, organization.id)
    now = utcnow()
    changes: dict[str, Any] = {}
    lapsed: list[Change] = []
    signed_out: list[Change] = []
    if current is None:
        assert given.client_secret is not None
        current = SsoConfiguration(
            organization_id=organization.id,
            issuer=given.issuer,
            client_id=given.client_id,
            client_secret=given.client_secret,
            allowed_domains=" ".join(given.allowed_domains),
            auto_provision=given.auto_provision,
            created_at=now,
            updated_at=now,
        )
        db.add(current)
        event = "sso.enable"
        data: dict[str, Any] = {
            "issuer": given.issuer,
            "client_id": given.client_id,
            "allowed_domains": given.allowed_domains,
            "auto_provision": given.auto_provision,
        }
    else:
        event = "sso.edit"
        for field, new in (
            ("issuer", given.issuer),
            ("client_id", given.client_id),
            ("auto_provision", given.auto_provision),
        ):
            old = getattr(current, field)
            if old != new:
                changes[field] = {"old": old, "new": new}
                setattr(current, field, new)
        domains = " ".join(given.allowed_domains)
        if domains != current.allowed_domains:
            changes["allowed_domains"] = {
                "old": domains_of(current),
                "new": given.allowed_domains,
            }
            current.allowed_domains = domains
        if given.client_secret is not None and given.client_secret != current.client_secret:
            changes["client_secret"] = {"changed": True}  # never the value
            current.client_secret = given.client_secret
        if "issuer" in changes or "client_id" in changes:
            lapsed = await lapse_authorizations(db, organization.id)
            signed_out = await end_session_sign_ins(db, organization.id)
        current.updated_at = now
        data = {"changes": changes}
        if lapsed:
            data["authorizations_lapsed"] = len(lapsed)
    if event == "sso.enable" or changes:
        audit(context, event, data)
    try:
        await commit_changes(db, *lapsed, *signed_out)
    except IntegrityError:
        # Two saves at once; the error's parameters would hold the secret, so it is not raised.
        await db.rollback()
        raise ApiError.conflict(
            "The SSO settings were changed at the same time; try again."
        ) from None
    return current


async def remove_configuration(context: OrganizationContext) -> None:
    db, organization = context.db, context.organization
    if organization.require_sso:
        raise ApiError.conflict("Turn off 'require SSO' before removing the SSO configuration.")
    current = await configuration_of(db, organization.id)
    if current is None:
        raise ApiError.not_found()
    lapsed = await lapse_authorizations(db, organization.id)
    lapsed += await end_session_sign_ins(db, organization.id)
    await db.delete(current)
    audit(context, "sso.disable", {"issuer": current.issuer, "client_id": current.client_id})
    await commit_changes(db, *lapsed)
