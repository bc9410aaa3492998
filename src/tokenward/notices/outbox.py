"""The outbox table: enqueue with the causing transaction; claim, mark sent or retry later."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.store.tables import OutgoingEmail, utcnow

__all__ = ["claim_due", "enqueue", "mark_failed", "mark_sent"]

MAX_ATTEMPTS = 8


def enqueue(db: AsyncSession, *, recipient: str, subject: str, body: str, kind: str) -> None:
    """Add to the caller's transaction: the notice exists exactly when the change commits."""
    now = utcnow()
    db.add(
        OutgoingEmail(
            recipient=recipient,
            subject=" ".join(subject.split())[:200],  # one line, whatever the names in it
            body=body,
            kind=kind,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
        )
    )


async def claim_due(db: AsyncSession, limit: int = 20) -> Sequence[OutgoingEmail]:
    """Due messages, locked so that another process's sender skips them (PostgreSQL)."""
    query = (
        select(OutgoingEmail)
        .where(
            OutgoingEmail.sent_at.is_(None),
            OutgoingEmail.attempts < MAX_ATTEMPTS,
            OutgoingEmail.next_attempt_at <= utcnow(),
        )
        .order_by(OutgoingEmail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await db.scalars(query)).all()


def mark_sent(message: OutgoingEmail) -> None:
    message.sent_at = utcnow()
    message.attempts += 1
    message.last_error = None


def mark_failed(message: OutgoingEmail, error: str) -> None:
    """Back off exponentially: 30 s, 1 min, 2 min, … up to about an hour between attempts."""
    message.attempts += 1
    delay = min(30 * 2 ** (message.attempts - 1), 3600)
    message.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
    message.last_error = error[:500]
