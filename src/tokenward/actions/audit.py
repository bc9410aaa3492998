"""Audit entries for what a principal did in an organization. Never a secret in ``data``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.auth.organization_context import OrganizationContext
from tokenward.auth.principal import Principal
from tokenward.policy import CredentialKind
from tokenward.store.audit import record_event

__all__ = ["audit", "record_audit"]


def credential_summary(principal: Principal) -> dict[str, Any]:
    """How the actor authenticated, for audit data: kind and token id, never the secret."""
    summary: dict[str, Any] = {"kind": principal.kind.value}
    if principal.kind is not CredentialKind.SESSION:
        summary["token_id"] = str(principal.token_id)
        summary["token_last_characters"] = principal.token_last_characters
    return summary


def audit(context: OrganizationContext, event: str, data: dict[str, Any]) -> None:
    record_audit(
        context.db, context.principal, context.organization.id, event, data, context.ip_address
    )


def record_audit(
    db: AsyncSession,
    principal: Principal,
    organization_id: int,
    event: str,
    data: dict[str, Any],
    ip_address: str | None,
) -> None:
    record_event(
        db,
        organization_id=organization_id,
        event=event,
        actor_type=principal.actor_type.value,
        actor_id=principal.actor_id,
        actor_name=principal.actor_name,
        ip_address=ip_address,
        data={**data, "credential": credential_summary(principal)},
    )
