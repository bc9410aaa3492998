"""Changing an organization's rules for personal tokens: preconditions, and the notices owed to
members whose tokens a tighter rule will stop."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.personal_token_access import credential_of, revoked_token_ids
from tokenward.auth.organization_context import OrganizationContext
from tokenward.auth.organization_policy import policy_of
from tokenward.errors import ApiError
from tokenward.notices.grouping import Told, queue_latest
from tokenward.notices.messages import policy_change_notice, two_factor_required_notice
from tokenward.policy import Enforcement, OrganizationPolicy, Requirement, Role, decide
from tokenward.store.admission import AdmittedOrganization, admitted_id
from tokenward.store.organization_record import OrganizationFields
from tokenward.store.tables import Membership, PersonalToken, User, utcnow
from tokenward.store.usage import PERSONAL, TokenUsage

__all__ = [
    "NOTICE_WINDOW_DAYS",
    "check_rules_change",
    "members_affected",
    "members_to_notify",
    "members_without_two_factor",
    "newly_requires_2fa",
    "notify_members",
    "personal_tokens_at_stake",
    "rules_state",
    "tightens",
]

NOTICE_WINDOW_DAYS = 30
# The fields a rules notice speaks of, and that a held one remembers (``rules_state``).
STATE_FIELDS = (
    "name",
    "allow_personal_tokens",
    "personal_token_enforcement",
    "personal_token_max_lifetime_days",
    "require_2fa",
    "require_sso",
)
_NOT_THIS_CHANGE = frozenset({"personal-token-revoked", "personal-token-sso-unauthorized"})

_LABELS: dict[str, tuple[str, dict[Any, str]]] = {
    "allow_personal_tokens": ("Personal API tokens", {True: "allowed", False: "denied"}),
    "personal_token_enforcement": (
        "Enforcement",
        {"enforce": "enforced", "report": "report only (requests pass, would-be denials counted)"},
    ),
    "personal_token_max_lifetime_days": ("Maximum personal token lifetime", {None: "no limit"}),
    "require_2fa": ("Two-factor authentication", {True: "required", False: "not required"}),
    "require_sso": ("SSO sign-in", {True: "required", False: "not required"}),
}


def describe_change(field: str, old: Any, new: Any) -> str:
    """A settings change in words, e.g. "Personal API tokens: allowed → denied"."""
    label, words = _LABELS.get(field, (field, {}))

    def word(value: Any) -> str:
        if value in words:
            return words[value]
        return f"{value} days" if field == "personal_token_max_lifetime_days" else str(value)

    return f"{label}: {word(old)} → {word(new)}"


def describe_changes(changes: dict[str, dict[str, Any]]) -> list[str]:
    return [describe_change(field, c["old"], c["new"]) for field, c in changes.items()]


async def check_rules_change(context: OrganizationContext, settings: dict[str, Any]) -> None:
    """An owner cannot require two-factor authentication without having it, in this session."""
    if settings.get("require_2fa") and not context.organization.require_2fa:
        user = context.principal.user
        owner = await context.db.get(User, user.id) if user is not None else None
        if owner is None or not owner.has_two_factor:
            raise ApiError.invalid(
                "settings.require_2fa",
                "Turn on two-factor authentication for your own account first "
                "(/settings/account/security/).",
            )
        if not context.principal.credential.two_factor:
            # Else this very session would be locked out by the change it makes.
            raise ApiError.invalid(
                "settings.require_2fa",
                "This session was opened before your authenticator was set up: sign out and "
                "sign in again with a code first.",
            )


def newly_requires_2fa(old: OrganizationPolicy, new: OrganizationPolicy) -> bool:
    return new.require_2fa and not old.require_2fa


def tightens(old: OrganizationPolicy, new: OrganizationPolicy) -> bool:
    """Whether someone who gets in under ``old`` may be stopped (or reported) under ``new``."""
    if newly_requires_2fa(old, new):
        return True  # members without a second factor are refused from then on
    if old.allow_personal_tokens and not new.allow_personal_tokens:
        return True  # moving to deny, enforced or reported
    has_rules = not new.allow_personal_tokens or new.personal_token_max_lifetime_days is not None
    if (
        has_rules
        and old.personal_token_enforcement is Enforcement.REPORT
        and new.personal_token_enforcement is Enforcement.ENFORCE
    ):
        return True  # from counting would-be refusals (denial or lifetime) to refusing
    limit_old, limit_new = (
        old.personal_token_max_lifetime_days,
        new.personal_token_max_lifetime_days,
    )
    return limit_new is not None and (limit_old is None or limit_new < limit_old)


async def _recently_used_tokens(
    db: AsyncSession, organization: AdmittedOrganization
) -> list[tuple[PersonalToken, User, str]]:
    organization_id = admitted_id(organization)
    since = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=NOTICE_WINDOW_DAYS - 1)
    used = (
        select(TokenUsage.token_id)
        .where(
            TokenUsage.organization_id == organization_id,
            TokenUsage.token_kind == PERSONAL,
            TokenUsage.day >= since,
        )
        .distinct()
    )
    query = (
        select(PersonalToken, User, Membership.role)
        .join(User, User.id == PersonalToken.user_id)
        .join(
            Membership,
            (Membership.user_id == User.id) & (Membership.organization_id == organization_id),
        )
        .where(PersonalToken.id.in_(used), PersonalToken.revoked_at.is_(None))
        .order_by(User.id, PersonalToken.id)
    )
    return [(t, u, r) for t, u, r in (await db.execute(query)).all()]


async def members_affected(
    db: AsyncSession, organization: AdmittedOrganization, policy: OrganizationPolicy
) -> dict[int, tuple[User, list[PersonalToken]]]:
    """Members whose tokens used the organization lately and that ``policy``, enforced, stops."""
    enforced = replace(
        policy,
        personal_token_enforcement=Enforcement.ENFORCE,
        revoked_personal_tokens=await revoked_token_ids(db, organization),
    )
    affected: dict[int, tuple[User, list[PersonalToken]]] = {}
    for token, user, role in await _recently_used_tokens(db, organization):
        decision = decide(credential_of(token, user), enforced, Role(role), Requirement())
        # Tokens already stopped for want of an SSO authorization are told when SSO is required.
        if not decision.allowed and decision.code not in _NOT_THIS_CHANGE:
            affected.setdefault(user.id, (user, []))[1].append(token)
    return affected


async def members_without_two_factor(
    db: AsyncSession, organization: AdmittedOrganization
) -> list[User]:
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == admitted_id(organization), User.totp_secret.is_(None))
        .order_by(User.email)
    )
    return list((await db.scalars(query)).all())


async def _to_tell(
    db: AsyncSession,
    organization: AdmittedOrganization,
    old: OrganizationPolicy,
    new: OrganizationPolicy,
) -> tuple[dict[int, tuple[User, list[PersonalToken]]], dict[int, User]]:
    """Whom saving ``new`` over ``old`` emails: members whose recently used personal tokens it
    stops, and (when it starts requiring 2FA) members without a second factor."""
    if not tightens(old, new):
        return {}, {}
    by_tokens = await members_affected(db, organization, new)
    without_2fa: dict[int, User] = {}
    if newly_requires_2fa(old, new):
        without_2fa = {u.id: u for u in await members_without_two_factor(db, organization)}
    return by_tokens, without_2fa


async def members_to_notify(
    db: AsyncSession,
    organization: AdmittedOrganization,
    current: OrganizationPolicy,
    proposed: OrganizationPolicy,
) -> int:
    """How many people saving ``proposed`` over ``current`` would email (``notify_members``)."""
    by_tokens, without_2fa = await _to_tell(db, organization, current, proposed)
    return len(by_tokens.keys() | without_2fa.keys())


def rules_state(organization: OrganizationFields) -> dict[str, Any]:
    """What a member knows of the organization's rules, as a held notice remembers it."""
    return {field: getattr(organization, field) for field in STATE_FIELDS}


def _policy_from(organization: OrganizationFields, state: dict[str, Any]) -> OrganizationPolicy:
    return OrganizationPolicy(
        organization_id=str(organization.id),
        slug=organization.slug,
        allow_personal_tokens=bool(state.get("allow_personal_tokens", True)),
        personal_token_enforcement=Enforcement(state.get("personal_token_enforcement", "enforce")),
        personal_token_max_lifetime_days=state.get("personal_token_max_lifetime_days"),
        require_2fa=bool(state.get("require_2fa")),
        require_sso=bool(state.get("require_sso")),
    )


def _changed(last_known: dict[str, Any], now: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        field: {"old": last_known.get(field), "new": now[field]}
        for field in STATE_FIELDS
        if last_known.get(field) != now[field]
    }


async def notify_members(
    context: OrganizationContext,
    organization: OrganizationFields,
    before: dict[str, Any],
    base_url: str,
    delay_seconds: float = 0.0,
) -> int:
    """Queue the notices owed for the change from ``before`` (``rules_state``) to the rules of
    ``organization`` as changed, in the caller's transaction, one per member to tell; returns
    how many."""

    async def tell(last_known: dict[str, Any]) -> Told:
        old, new = _policy_from(organization, last_known), policy_of(organization)
        by_tokens, without_2fa = await _to_tell(context.db, context.admitted, old, new)
        described = describe_changes(_changed(last_known, rules_state(organization)))
        told: Told = {}
        for user_id in by_tokens.keys() | without_2fa.keys():
            user, tokens = by_tokens.get(user_id, (without_2fa.get(user_id), []))
            assert user is not None
            if tokens:
                notice = policy_change_notice(
                    organization_name=organization.name,
                    slug=organization.slug,
                    changes=described,
                    tokens=[(t.name, t.token_last_characters) for t in tokens],
                    base_url=base_url,
                    needs_second_factor=user_id in without_2fa,
                    reported_only=new.personal_token_enforcement is Enforcement.REPORT,
                )
            else:
                notice = two_factor_required_notice(
                    organization_name=organization.name, slug=organization.slug, base_url=base_url
                )
            told[user.email] = (notice, "org.personal-token-rules" if tokens else "org.require-2fa")
        return told

    return await queue_latest(
        context.db,
        topic=f"org:{organization.id}:rules",
        organization=organization.name,
        before=before,
        tell=tell,
        delay_seconds=delay_seconds,
    )


async def personal_tokens_at_stake(
    db: AsyncSession, organization: AdmittedOrganization
) -> tuple[int, int]:
    """How many live personal tokens, held by how many members, act in the organization today."""
    now = utcnow()
    query = (
        select(func.count(PersonalToken.id), func.count(func.distinct(PersonalToken.user_id)))
        .join(Membership, Membership.user_id == PersonalToken.user_id)
        .where(
            Membership.organization_id == admitted_id(organization),
            PersonalToken.revoked_at.is_(None),
            or_(PersonalToken.expires_at.is_(None), PersonalToken.expires_at > now),
        )
    )
    tokens, holders = (await db.execute(query)).one()
    return int(tokens), int(holders)
