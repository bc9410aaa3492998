"""Append and read the organization's audit log. Entries never hold a secret."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.store.admission import AdmittedOrganization, admitted_id
from tokenward.store.tables import AuditLogEntry

__all__ = [
    "entries_listed",
    "events_held",
    "record_event",
    "select_entries",
]


def record_event(
    session: AsyncSession,
    *,
    organization_id: int,
    event: str,
    actor_type: str,
    actor_id: str | None,
    actor_name: str,
    ip_address: str | None,
    data: dict[str, Any],
) -> AuditLogEntry:
    entry = AuditLogEntry(
        organization_id=organization_id,
        event=event,
        actor_type=actor_type,
        actor_id=actor_id,
        actor_name=actor_name[:254],
        ip_address=ip_address,
        data=data,
    )
    session.add(entry)
    return entry


def select_entries(organization: AdmittedOrganization, event: str | None = None) -> Any:
    query = select(AuditLogEntry).where(AuditLogEntry.organization_id == admitted_id(organization))
    if event:
        query = query.where(AuditLogEntry.event == event)
    return query


async def events_held(session: AsyncSession, organization: AdmittedOrganization) -> set[str]:
    """Every kind of event the organization's log holds."""
    query = (
        select(AuditLogEntry.event)
        .where(AuditLogEntry.organization_id == admitted_id(organization))
        .distinct()
    )
    held = await session.scalars(query)
    return set(held.all())


async def entries_listed(
    session: AsyncSession,
    organization: AdmittedOrganization,
    *,
    event: str | None,
    before: int | None,
    limit: int,
) -> Sequence[AuditLogEntry]:
    """Up to ``limit`` of the organization's entries, newest first, older than ``before``."""
    query = select_entries(organization, event).order_by(AuditLogEntry.id.desc())
    if before is not None:
        query = query.where(AuditLogEntry.id < before)
    return (await session.scalars(query.limit(limit))).all()
