"""What owners and managers see and do about members' personal tokens in their organization:
the inventory with each token's standing here, usage with a daily series, revoke-for-here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.audit import audit
from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.auth.organization_context import OrganizationContext
from tokenward.auth.organization_policy import policy_of
from tokenward.errors import ApiError
from tokenward.notices.grouping import Told, queue_latest
from tokenward.notices.messages import revoked_here_notice
from tokenward.policy import (
    Credential,
    CredentialKind,
    Decision,
    Enforcement,
    OrganizationPolicy,
    Requirement,
    Role,
    decide,
    role_needed_to_manage,
)
from tokenward.refusals import STANDINGS
from tokenward.store.admission import AdmittedOrganization, admitted_id
from tokenward.store.ids import parse_id
from tokenward.store.sso import tokens_authorized_in
from tokenward.store.tables import (
    Membership,
    PersonalToken,
    PersonalTokenRevocation,
    User,
    utcnow,
)
from tokenward.store.usage import PERSONAL, TokenUsage

__all__ = [
    "TokenUsageSummary",
    "credential_of",
    "inventory",
    "revoke_here",
    "revoked_token_ids",
    "standing",
    "usage_report",
]


async def revoked_token_ids(db: AsyncSession, organization: AdmittedOrganization) -> frozenset[str]:
    query = select(PersonalTokenRevocation.token_id).where(
        PersonalTokenRevocation.organization_id == admitted_id(organization)
    )
    rows = await db.scalars(query)
    return frozenset(str(token_id) for token_id in rows)


def credential_of(token: PersonalToken, user: User) -> Credential:
    return Credential(
        CredentialKind.PERSONAL_TOKEN,
        frozenset(token.scopes.split()),
        token_id=str(token.id),
        created_at=token.created_at,
        expires_at=token.expires_at,
        two_factor=user.has_two_factor,
    )


def standing(decision: Decision) -> tuple[str, str | None]:
    """(standing, would-be standing in report mode) of a token, from the rule's decision."""
    if decision.allowed:
        would_be = decision.report_only
        return "allowed", STANDINGS.get(would_be) if would_be is not None else None
    return STANDINGS.get(decision.code, "denied") if decision.code is not None else "denied", None


@dataclass
class InventoryEntry:
    token: PersonalToken
    user: User
    role: Role
    standing: str
    would_be: str | None
    revoked_here_at: dt.datetime | None
    last_used_here: dt.date | None


async def _current_member_tokens(
    db: AsyncSession, organization: AdmittedOrganization
) -> list[tuple[PersonalToken, User, str]]:
    organization_id = admitted_id(organization)
    query = (
        select(PersonalToken, User, Membership.role)
        .join(User, User.id == PersonalToken.user_id)
        .join(
            Membership,
            (Membership.user_id == User.id) & (Membership.organization_id == organization_id),
        )
        .where(PersonalToken.revoked_at.is_(None))
        .order_by(User.email, PersonalToken.id)
    )
    return [(t, u, r) for t, u, r in (await db.execute(query)).all()]


async def _last_use_here(
    db: AsyncSession, organization: AdmittedOrganization
) -> dict[int, dt.date]:
    query = select(TokenUsage.token_id, TokenUsage.day).where(
        TokenUsage.organization_id == admitted_id(organization), TokenUsage.token_kind == PERSONAL
    )
    rows = await db.execute(query)
    latest: dict[int, dt.date] = {}
    for token_id, day in rows.all():
        if token_id not in latest or day > latest[token_id]:
            latest[token_id] = day
    return latest


async def inventory(context: OrganizationContext) -> list[InventoryEntry]:
    """Every live personal token of the organization's current members, judged by the rule."""
    db, organization = context.db, context.organization
    revocations = {
        r.token_id: r.created_at
        for r in await db.scalars(
            select(PersonalTokenRevocation).where(
                PersonalTokenRevocation.organization_id == organization.id
            )
        )
    }
    policy = replace(
        policy_of(organization), revoked_personal_tokens=frozenset(map(str, revocations))
    )
    last_use = await _last_use_here(db, context.admitted)
    authorized = await tokens_authorized_in(db, context.admitted)
    here = frozenset({str(organization.id)})
    entries = []
    for token, user, role in await _current_member_tokens(db, context.admitted):
        credential = credential_of(token, user)
        if token.id in authorized:
            credential = replace(credential, sso_organizations=here)
        decision = decide(credential, policy, Role(role), Requirement())
        state, would_be = standing(decision)
        entries.append(
            InventoryEntry(
                token,
                user,
                Role(role),
                state,
                would_be,
                revocations.get(token.id),
                last_use.get(token.id),
            )
        )
    return entries


async def revoke_here(
    context: OrganizationContext, token_id: str, base_url: str, notice_delay_seconds: float = 0.0
) -> None:
    """Cut one member's personal token off from this organization, and tell its user (with
    their other changes, if held ``notice_delay_seconds``)."""
    db, organization = context.db, context.organization
    found = None
    wanted = parse_id(token_id)
    if wanted is not None:
        found = next(
            (
                (t, u, r)
                for t, u, r in await _current_member_tokens(db, context.admitted)
                if t.id == wanted
            ),
            None,
        )
    if found is None:
        raise ApiError.not_found()
    token, user, holder_role = found
    # An owner's token is cut off by an owner only, as owners are managed only by owners.
    needed = role_needed_to_manage(Role(holder_role), None)
    if needed is not None:
        context.require(Requirement(minimum_role=needed))
    already = await db.scalar(
        select(PersonalTokenRevocation.id).where(
            PersonalTokenRevocation.organization_id == organization.id,
            PersonalTokenRevocation.token_id == token.id,
        )
    )
    if already is not None:
        raise ApiError.not_found()
    actor = context.principal.user
    db.add(
        PersonalTokenRevocation(
            organization_id=organization.id,
            token_id=token.id,
            revoked_by_id=actor.id if actor is not None else None,
            created_at=utcnow(),
        )
    )
    audit(
        context,
        "personal-token.revoke-access",
        {
            "token_id": str(token.id),
            "token_name": token.name,
            "token_last_characters": token.token_last_characters,
            "user_id": str(user.id),
            "email": user.email,
        },
    )
    notice = revoked_here_notice(
        organization_name=organization.name,
        slug=organization.slug,
        token_name=token.name,
        last_characters=token.token_last_characters,
        actor=context.principal.actor_name,
        base_url=base_url,
    )
    told: Told = {user.email: (notice, "personal-token.revoke-access")}

    async def tell(_last_known: dict[str, Any]) -> Told:
        return told

    await queue_latest(
        db,
        topic=f"org:{organization.id}:access:{token.id}",
        organization=organization.name,
        before={},
        tell=tell,
        delay_seconds=notice_delay_seconds,
    )
    await commit_changes(db, Change.revocation(organization.id, token.id))


@dataclass
class TokenUsageSummary:
    token: PersonalToken
    user: User
    allowed: int = 0
    denied: int = 0
    would_be_denied: int = 0
    last_used_here: dt.date | None = None
    daily: dict[dt.date, list[int]] = field(default_factory=dict)
    current_standing: str = "allowed"
    proposed_standing: str = "allowed"


@dataclass
class UsageReport:
    days: list[dt.date]
    tokens: list[TokenUsageSummary]
    totals: dict[str, Any]


def _enforced_standing(credential: Credential, policy: OrganizationPolicy, role: Role) -> str:
    """What the policy does to the token once enforced (report mode only postpones it)."""
    enforced = replace(policy, personal_token_enforcement=Enforcement.ENFORCE)
    return standing(decide(credential, enforced, role, Requirement()))[0]


def _affected(summaries: list[TokenUsageSummary], attribute: str) -> dict[str, int]:
    hit = [s for s in summaries if getattr(s, attribute) not in ("allowed", "not-a-member")]
    return {"tokens": len(hit), "members": len({s.user.id for s in hit})}


async def usage_report(
    context: OrganizationContext, days: int, proposed: OrganizationPolicy | None = None
) -> UsageReport:
    """Personal-token use of this organization over the last ``days`` days, per token and day,
    with what the current and a proposed policy would do to each token that was used."""
    db, organization = context.db, context.organization
    today = dt.datetime.now(dt.UTC).date()
    since = today - dt.timedelta(days=days - 1)
    rows = (
        await db.execute(
            select(TokenUsage, PersonalToken, User)
            .join(PersonalToken, PersonalToken.id == TokenUsage.token_id)
            .join(User, User.id == PersonalToken.user_id)
            .where(
                TokenUsage.organization_id == organization.id,
                TokenUsage.token_kind == PERSONAL,
                TokenUsage.day >= since,
            )
            .order_by(TokenUsage.day)
        )
    ).all()
    members = select(Membership.user_id, Membership.role).where(
        Membership.organization_id == organization.id
    )
    roles = {user_id: role for user_id, role in (await db.execute(members)).all()}
    current = replace(
        policy_of(organization),
        revoked_personal_tokens=await revoked_token_ids(db, context.admitted),
    )
    # A proposal changes settings; the tokens revoked here stay revoked under it.
    target = replace(proposed or current, revoked_personal_tokens=current.revoked_personal_tokens)
    summaries: dict[int, TokenUsageSummary] = {}
    for usage, token, user in rows:
        summary = summaries.get(token.id)
        if summary is None:
            summary = summaries[token.id] = TokenUsageSummary(token, user)
        summary.allowed += usage.allowed
        summary.denied += usage.denied
        summary.would_be_denied += usage.would_be_denied
        summary.daily[usage.day] = [usage.allowed, usage.denied, usage.would_be_denied]
        summary.last_used_here = usage.day
    for summary in summaries.values():
        role = roles.get(summary.user.id)
        if role is None:
            summary.current_standing = summary.proposed_standing = "not-a-member"
            continue
        credential = credential_of(summary.token, summary.user)
        summary.current_standing = _enforced_standing(credential, current, Role(role))
        summary.proposed_standing = _enforced_standing(credential, target, Role(role))
    listed = sorted(summaries.values(), key=lambda s: (s.user.email, s.token.id))
    dates = [since + dt.timedelta(days=offset) for offset in range(days)]
    totals = {
        "requests": {
            "allowed": sum(s.allowed for s in listed),
            "denied": sum(s.denied for s in listed),
            "would_be_denied": sum(s.would_be_denied for s in listed),
        },
        "tokens_used": len(listed),
        "members_using": len({s.user.id for s in listed}),
        "current_policy_affects": _affected(listed, "current_standing"),
        "proposed_policy_affects": _affected(listed, "proposed_standing"),
    }
    return UsageReport(dates, listed, totals)
