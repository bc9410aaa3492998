"""Rows to response bodies: one place for each shape, shared by the API and the pages."""

from __future__ import annotations

import datetime as dt

from tokenward.api import schemas
from tokenward.auth.organization_policy import policy_of
from tokenward.policy import OrganizationPolicy, Role
from tokenward.store.organization_record import OrganizationFields
from tokenward.store.tables import (
    AuditLogEntry,
    Membership,
    OrganizationToken,
    PersonalToken,
    Project,
    User,
)

__all__ = [
    "audit_entry_out",
    "member_out",
    "organization_out",
    "organization_settings_out",
    "organization_token_out",
    "personal_token_out",
    "project_out",
    "project_row_out",
    "user_out",
]


def user_out(user: User) -> schemas.UserOut:
    return schemas.UserOut(id=str(user.id), email=user.email, name=user.name)


def personal_token_out(token: PersonalToken) -> schemas.PersonalTokenOut:
    return schemas.PersonalTokenOut(
        id=str(token.id),
        name=token.name,
        scopes=token.scopes.split(),
        token_last_characters=token.token_last_characters,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )


def organization_settings_out(policy: OrganizationPolicy) -> schemas.OrganizationSettingsOut:
    return schemas.OrganizationSettingsOut(
        allow_personal_tokens=policy.allow_personal_tokens,
        personal_token_enforcement=policy.personal_token_enforcement.value,
        personal_token_max_lifetime_days=policy.personal_token_max_lifetime_days,
        require_2fa=policy.require_2fa,
        require_sso=policy.require_sso,
    )


def organization_out(
    organization: OrganizationFields, role: Role | None
) -> schemas.OrganizationOut:
    return schemas.OrganizationOut(
        id=str(organization.id),
        slug=organization.slug,
        name=organization.name,
        role=role.value if role is not None else None,
        settings=organization_settings_out(policy_of(organization)),
        created_at=organization.created_at,
    )


def member_out(membership: Membership, user: User) -> schemas.MemberOut:
    return schemas.MemberOut(
        id=str(membership.id),
        user=user_out(user),
        role=Role(membership.role).value,
        created_at=membership.created_at,
    )


def organization_token_out(
    token: OrganizationToken, creator: User | None
) -> schemas.OrganizationTokenOut:
    return schemas.OrganizationTokenOut(
        id=str(token.id),
        name=token.name,
        scopes=token.scopes.split(),
        token_last_characters=token.token_last_characters,
        created_at=token.created_at,
        created_by=user_out(creator) if creator is not None else None,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )


def project_out(project: Project, organization: OrganizationFields) -> schemas.ProjectOut:
    return schemas.ProjectOut(
        id=str(project.id),
        slug=project.slug,
        name=project.name,
        organization=organization.slug,
        created_at=project.created_at,
    )


def project_row_out(
    row: tuple[int, str, str, dt.datetime], organization: OrganizationFields
) -> schemas.ProjectOut:
    """``project_out`` for a row of ``project_listing``'s columns."""
    project_id, slug, name, created_at = row
    return schemas.ProjectOut(
        id=str(project_id),
        slug=slug,
        name=name,
        organization=organization.slug,
        created_at=created_at,
    )


def audit_entry_out(entry: AuditLogEntry) -> schemas.AuditEntryOut:
    return schemas.AuditEntryOut(
        id=str(entry.id),
        event=entry.event,
        actor=schemas.ActorOut(
            type=entry.actor_type if entry.actor_type in ("org_token", "system") else "user",
            id=entry.actor_id,
            name=entry.actor_name,
        ),
        ip_address=entry.ip_address,
        created_at=entry.created_at,
        data=entry.data,
    )
