"""Requiring SSO in an organization: who may turn it on, what it stops (shown first), and the
notices owed to members who have never signed in through SSO or whose tokens it stops."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.organization_rules import NOTICE_WINDOW_DAYS
from tokenward.actions.sso_configuration import configuration_of
from tokenward.auth.organization_context import OrganizationContext
from tokenward.errors import ApiError
from tokenward.notices.grouping import Told, queue_latest
from tokenward.notices.messages import Notice
from tokenward.store.organization_record import OrganizationFields
from tokenward.store.tables import (
    Membership,
    PersonalToken,
    SsoIdentity,
    SsoTokenAuthorization,
    User,
    utcnow,
)
from tokenward.store.usage import PERSONAL, TokenUsage

__all__ = ["check_require_sso", "notify_sso_required", "require_sso_impact"]


async def check_require_sso(context: OrganizationContext, settings: dict[str, Any]) -> None:
    """Turning it on needs an SSO configuration, and an owner whose own session came through
    it (an owner who cannot sign in through SSO would lock themselves out)."""
    if not settings.get("require_sso") or context.organization.require_sso:
        return
    if await configuration_of(context.db, context.organization.id) is None:
        raise ApiError.invalid("settings.require_sso", "Configure SSO for this organization first.")
    organization_id = str(context.organization.id)
    if organization_id not in context.principal.credential.sso_organizations:
        raise ApiError.invalid(
            "settings.require_sso",
            f"Sign in through SSO first (/auth/login/{context.organization.slug}/), so that you "
            "know it works for you before it is required of everyone.",
        )


@dataclass(frozen=True)
class RequirementImpact:
    members: int
    without_sso: list[User]
    tokens_stopped: list[tuple[PersonalToken, User]]
    recently_used: set[int]  # ids of stopped tokens that acted here lately

    @property
    def to_notify(self) -> dict[int, User]:
        people = {user.id: user for user in self.without_sso}
        for token, user in self.tokens_stopped:
            if token.id in self.recently_used:
                people[user.id] = user
        return people


async def require_sso_impact(db: AsyncSession, organization_id: int) -> RequirementImpact:
    """What requiring SSO would stop today: members who never signed in through it, and live
    personal tokens of members that are not authorized for the organization."""
    members = list(
        (
            await db.scalars(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.organization_id == organization_id)
                .order_by(User.email)
            )
        ).all()
    )
    with_sso = set(
        (
            await db.scalars(
                select(SsoIdentity.user_id).where(SsoIdentity.organization_id == organization_id)
            )
        ).all()
    )
    authorized = select(SsoTokenAuthorization.token_id).where(
        SsoTokenAuthorization.organization_id == organization_id
    )
    now = utcnow()
    tokens = (
        await db.execute(
            select(PersonalToken, User)
            .join(User, User.id == PersonalToken.user_id)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organization_id == organization_id,
                PersonalToken.revoked_at.is_(None),
                or_(PersonalToken.expires_at.is_(None), PersonalToken.expires_at > now),
                PersonalToken.id.not_in(authorized),
            )
            .order_by(User.email, PersonalToken.id)
        )
    ).all()
    since = now.date() - dt.timedelta(days=NOTICE_WINDOW_DAYS - 1)
    used = set(
        (
            await db.scalars(
                select(TokenUsage.token_id).where(
                    TokenUsage.organization_id == organization_id,
                    TokenUsage.token_kind == PERSONAL,
                    TokenUsage.day >= since,
                )
            )
        ).all()
    )
    return RequirementImpact(
        members=len(members),
        without_sso=[user for user in members if user.id not in with_sso],
        tokens_stopped=[(token, user) for token, user in tokens],
        recently_used=used,
    )


def _notice(
    organization_name: str, slug: str, tokens: list[PersonalToken], base_url: str
) -> Notice:
    body = (
        f"The organization {organization_name} ({slug}) now requires signing in through its "
        f"identity provider (SSO). Sign in at {base_url}/auth/login/{slug}/ to keep using it "
        "in the browser.\n"
    )
    if tokens:
        listed = "\n".join(f'  - "{t.name}" (ending …{t.token_last_characters})' for t in tokens)
        body += (
            f"\nThese personal tokens of yours now get 403 personal-token-sso-unauthorized "
            f"in {slug} until you authorize them through SSO (from your tokens page, "
            f"{base_url}/settings/account/tokens/):\n{listed}\n"
        )
    return Notice(f"[Tokenward] {organization_name} now requires SSO", body)


async def notify_sso_required(
    context: OrganizationContext,
    organization: OrganizationFields,
    before: dict[str, Any],
    base_url: str,
    delay_seconds: float = 0.0,
) -> int:
    """Queue a notice per member to tell if ``organization`` as changed requires SSO and did not
    at ``before`` (the ``rules_state`` they last knew), in the caller's transaction; returns how
    many."""

    async def tell(last_known: dict[str, Any]) -> Told:
        if not organization.require_sso or last_known.get("require_sso"):
            return {}
        impact = await require_sso_impact(context.db, organization.id)
        told: Told = {}
        for user_id, user in impact.to_notify.items():
            tokens = [
                t
                for t, u in impact.tokens_stopped
                if u.id == user_id and t.id in impact.recently_used
            ]
            notice = _notice(organization.name, organization.slug, tokens, base_url)
            told[user.email] = (notice, "org.require-sso")
        return told

    return await queue_latest(
        context.db,
        topic=f"org:{organization.id}:sso",
        organization=organization.name,
        before=before,
        tell=tell,
        delay_seconds=delay_seconds,
    )
