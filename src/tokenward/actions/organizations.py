"""Organizations: create, list what a credential may see, change name and security settings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.audit import audit, record_audit
from tokenward.actions.organization_rules import (
    check_rules_change,
    notify_members,
    rules_state,
)
from tokenward.actions.sso_requirement import check_require_sso, notify_sso_required
from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.auth.organization_context import OrganizationContext
from tokenward.auth.organization_policy import policy_of
from tokenward.auth.principal import Principal
from tokenward.config import DEFAULT_BASE_URL
from tokenward.errors import ApiError
from tokenward.policy import CredentialKind, Requirement, Role, decide
from tokenward.store.tables import Membership, Organization, PersonalTokenRevocation, utcnow

__all__ = [
    "SETTINGS_FIELDS",
    "create_organization",
    "update_organization",
    "visible_organizations",
]

SETTINGS_FIELDS = (
    "allow_personal_tokens",
    "personal_token_enforcement",
    "personal_token_max_lifetime_days",
    "require_2fa",
    "require_sso",
)
# Settings that may be set to null (no limit); the others ignore a null.
NULLABLE_SETTINGS = frozenset({"personal_token_max_lifetime_days"})


def _slug_taken(slug: str) -> ApiError:
    return ApiError(409, "conflict", f"The slug '{slug}' is already taken.", {"field": "slug"})


async def create_organization(
    db: AsyncSession, principal: Principal, *, slug: str, name: str, ip_address: str | None
) -> Organization:
    assert principal.user is not None
    if await db.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        raise _slug_taken(slug)
    now = utcnow()
    organization = Organization(slug=slug, name=name, allow_personal_tokens=True, created_at=now)
    db.add(organization)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise _slug_taken(slug) from None
    db.add(
        Membership(
            organization_id=organization.id,
            user_id=principal.user.id,
            role=Role.OWNER.value,
            created_at=now,
        )
    )
    record_audit(
        db, principal, organization.id, "org.create", {"slug": slug, "name": name}, ip_address
    )
    await db.commit()
    return organization


async def visible_organizations(
    db: AsyncSession, principal: Principal, sso_hidden: list[str] | None = None
) -> list[tuple[Organization, Role | None]]:
    """The caller's organizations that the rule lets this credential into at all.

    Slugs left out only because a personal token lacks an SSO authorization there are appended
    to ``sso_hidden``, so that the caller can say what to authorize.
    """
    rows: list[tuple[Organization, Role | None]]
    if principal.user is None:
        own = select(Organization).where(Organization.id == principal.organization_id)
        rows = [(org, None) for org in (await db.scalars(own)).all()]
    else:
        query = (
            select(Organization, Membership.role)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == principal.user.id)
            .order_by(Organization.slug)
        )
        rows = [(org, Role(role)) for org, role in (await db.execute(query)).all()]
    revoked_in: set[int] = set()
    if principal.kind is CredentialKind.PERSONAL_TOKEN and principal.token_id is not None:
        cut_off = select(PersonalTokenRevocation.organization_id).where(
            PersonalTokenRevocation.token_id == principal.token_id
        )
        revoked_in = set((await db.scalars(cut_off)).all())
    token = frozenset({str(principal.token_id)})
    credential = principal.credential
    if principal.kind is CredentialKind.PERSONAL_TOKEN:
        # A token is listed by its personal-token rules, whatever the second-factor state.
        credential = replace(credential, two_factor=True)
    visible = []
    for org, role in rows:
        policy = policy_of(org, token if org.id in revoked_in else frozenset())
        decision = decide(credential, policy, role, Requirement())
        # A member who still needs a second factor or an SSO sign-in sees the organization, and
        # learns why on entering it; what the credential may never use here is not listed.
        if decision.allowed or decision.code in {"2fa-required", "sso-required"}:
            visible.append((org, role))
        elif decision.code == "personal-token-sso-unauthorized" and sso_hidden is not None:
            sso_hidden.append(org.slug)
    return visible


async def update_organization(
    context: OrganizationContext,
    *,
    name: str | None,
    settings: dict[str, Any],
    base_url: str = DEFAULT_BASE_URL,
    notice_delay_seconds: float = 0.0,
) -> Organization:
    """Apply the changes, audit them, and queue notices for members a tighter rule will stop,
    held ``notice_delay_seconds`` to go with the person's other changes (notices.grouping).

    The gate has already demanded owner + session when settings change.
    """
    organization = await context.stored_organization()
    await check_rules_change(context, settings)
    await check_require_sso(context, settings)
    before = rules_state(organization)
    changes: dict[str, dict[str, Any]] = {}
    if name is not None and name != organization.name:
        changes["name"] = {"old": organization.name, "new": name}
        organization.name = name
    for field in SETTINGS_FIELDS:
        if field not in settings or (settings[field] is None and field not in NULLABLE_SETTINGS):
            continue
        old, new = getattr(organization, field), settings[field]
        if old != new:
            changes[field] = {"old": old, "new": new}
            setattr(organization, field, new)
    if changes:
        told = await notify_members(context, organization, before, base_url, notice_delay_seconds)
        told += await notify_sso_required(
            context, organization, before, base_url, notice_delay_seconds
        )
        data: dict[str, Any] = {"changes": changes}
        if told:
            data["members_notified"] = told
        audit(context, "org.edit", data)
        await commit_changes(context.db, Change.organization(organization.id))
    return organization
