"""Personal tokens authorized for an organization through SSO: where to start, what the
organization sees (with last use there), and an owner's or manager's revoke."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.audit import audit
from tokenward.actions.sso_configuration import configuration_of, lapse_authorizations
from tokenward.auth.coherence import commit_changes
from tokenward.auth.organization_context import OrganizationContext
from tokenward.errors import ApiError
from tokenward.store.ids import parse_id
from tokenward.store.tables import (
    Membership,
    Organization,
    PersonalToken,
    SsoTokenAuthorization,
    User,
)
from tokenward.store.usage import PERSONAL, TokenUsage

__all__ = ["authorizations_of", "authorize_path_for", "revoke_authorization"]


def authorization_path(slug: str, token_id: int) -> str:
    """The page that authorizes a token through the organization's identity provider; the same
    path ``decide`` names in ``personal-token-sso-unauthorized``."""
    return f"/auth/login/{slug}/?token={token_id}"


async def authorize_path_for(db: AsyncSession, user_id: int, token_id: str, slug: str) -> str:
    """Where the user goes to authorize their token for ``slug``; 404 for what is not theirs."""
    wanted = parse_id(token_id)
    token = await db.get(PersonalToken, wanted) if wanted is not None else None
    if token is None or token.user_id != user_id or token.revoked_at is not None:
        raise ApiError.not_found()
    organization = await db.scalar(
        select(Organization)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Organization.slug == slug, Membership.user_id == user_id)
    )
    if organization is None:
        raise ApiError.invalid("organization", "you are not a member of this organization")
    if await configuration_of(db, organization.id) is None:
        raise ApiError.invalid("organization", "this organization has no SSO sign-in")
    return authorization_path(organization.slug, token.id)


@dataclass(frozen=True)
class AuthorizationEntry:
    authorization: SsoTokenAuthorization
    token: PersonalToken
    user: User
    last_used_here: dt.date | None


async def authorizations_of(context: OrganizationContext) -> list[AuthorizationEntry]:
    """Live tokens authorized here, with the last day each acted here."""
    db, organization_id = context.db, context.organization.id
    last_use = (
        select(TokenUsage.token_id, func.max(TokenUsage.day).label("day"))
        .where(TokenUsage.organization_id == organization_id, TokenUsage.token_kind == PERSONAL)
        .group_by(TokenUsage.token_id)
        .subquery()
    )
    query = (
        select(SsoTokenAuthorization, PersonalToken, User, last_use.c.day)
        .join(PersonalToken, PersonalToken.id == SsoTokenAuthorization.token_id)
        .join(User, User.id == PersonalToken.user_id)
        .outerjoin(last_use, last_use.c.token_id == PersonalToken.id)
        .where(
            SsoTokenAuthorization.organization_id == organization_id,
            PersonalToken.revoked_at.is_(None),
        )
        .order_by(SsoTokenAuthorization.id)
    )
    return [
        AuthorizationEntry(authorization, token, user, day)
        for authorization, token, user, day in (await db.execute(query)).all()
    ]


async def revoke_authorization(context: OrganizationContext, authorization_id: str) -> None:
    db, organization = context.db, context.organization
    wanted = parse_id(authorization_id)
    found = None
    if wanted is not None:
        found = (
            await db.execute(
                select(SsoTokenAuthorization, PersonalToken)
                .join(PersonalToken, PersonalToken.id == SsoTokenAuthorization.token_id)
                .where(
                    SsoTokenAuthorization.id == wanted,
                    SsoTokenAuthorization.organization_id == organization.id,
                )
            )
        ).first()
    if found is None:
        raise ApiError.not_found()
    authorization, token = found
    changes = await lapse_authorizations(db, organization.id, token.id)
    audit(
        context,
        "personal-token.sso-deauthorize",
        {
            "authorization_id": str(authorization.id),
            "token_id": str(token.id),
            "token_name": token.name,
            "token_last_characters": token.token_last_characters,
            "user_id": str(token.user_id),
        },
    )
    await commit_changes(db, *changes)
