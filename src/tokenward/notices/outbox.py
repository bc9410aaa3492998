"""The outbox table: enqueue with the causing transaction; claim, mark sent or retry later."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tokenward.store.tables import OutgoingEmail, utcnow

__all__ = ["claim_due", "enqueue", "held", "mark_failed", "mark_sent", "subject_line"]

MAX_ATTEMPTS = 8
# How long a claimed message is kept from other senders while one tries it: well beyond what a
# pass of 20 sends with a 10 s socket timeout each can take, so a slow pass is never overtaken.
LEASE = dt.timedelta(minutes=15)


def subject_line(subject: str) -> str:
    """One line of at most 200 characters, whatever the names in it."""
    return " ".join(subject.split())[:200]


def enqueue(
    db: AsyncSession,
    *,
    recipient: str,
    subject: str,
    body: str,
    kind: str,
    topic: str | None = None,
    state: dict[str, Any] | None = None,
    delay_seconds: float = 0.0,
) -> None:
    """Add to the caller's transaction: the notice exists exactly when the change commits.

    A notice with a ``topic`` is held ``delay_seconds`` and then goes out with every other held
    notice to the same recipient, as one email (``notices.grouping``)."""
    now = utcnow()
    db.add(
        OutgoingEmail(
            recipient=recipient,
            subject=subject_line(subject),
            body=body,
            kind=kind,
            created_at=now,
            next_attempt_at=now + dt.timedelta(seconds=delay_seconds),
            attempts=0,
            topic=topic,
            state=state,
        )
    )


def _unsent(table: Any, now: dt.datetime) -> ColumnElement[bool]:
    """Not sent, not given up on, and not taken by a sender pass right now."""
    return and_(
        table.sent_at.is_(None),
        table.attempts < MAX_ATTEMPTS,
        or_(table.claimed_until.is_(None), table.claimed_until <= now),
    )


async def held(db: AsyncSession, topic: str) -> Sequence[OutgoingEmail]:
    """The unsent notices about ``topic``, oldest first, locked until the caller commits.

    No ``SKIP LOCKED``: a sender pass claiming one of them is waited for, and then the notice
    counts as taken (PostgreSQL checks the condition again on the row as that pass left it)."""
    now = utcnow()
    query = (
        select(OutgoingEmail)
        .where(OutgoingEmail.topic == topic, _unsent(OutgoingEmail, now))
        .order_by(OutgoingEmail.id)
        .with_for_update()
    )
    return (await db.scalars(query)).all()


async def claim_due(db: AsyncSession, claim: str, limit: int = 20) -> Sequence[OutgoingEmail]:
    """Take the due messages for one sender pass, marked with ``claim`` for ``LEASE``.

    A recipient's grouped notices are due when their oldest is, and all of them are taken with
    it. Only that oldest one is ever picked first, so two passes cannot split one group; rows
    are locked with ``SKIP LOCKED`` (PostgreSQL) and then claimed only if still unclaimed, so two
    passes never take the same row.
    """
    now = utcnow()
    older = aliased(OutgoingEmail)
    has_older = exists().where(
        older.recipient == OutgoingEmail.recipient,
        older.topic.is_not(None),
        older.id < OutgoingEmail.id,
        _unsent(older, now),
    )
    first = (
        select(OutgoingEmail.id, OutgoingEmail.recipient, OutgoingEmail.topic)
        .where(
            _unsent(OutgoingEmail, now),
            OutgoingEmail.next_attempt_at <= now,
            or_(OutgoingEmail.topic.is_(None), ~has_older),
        )
        .order_by(OutgoingEmail.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutgoingEmail)
    )
    leaders = (await db.execute(first)).all()
    ids = {row.id for row in leaders}
    grouped = {row.recipient for row in leaders if row.topic is not None}
    if grouped:
        riders = (
            select(OutgoingEmail.id)
            .where(
                OutgoingEmail.recipient.in_(grouped),
                OutgoingEmail.topic.is_not(None),
                OutgoingEmail.id.not_in(ids),
                _unsent(OutgoingEmail, now),
            )
            .with_for_update(skip_locked=True)
        )
        ids |= set((await db.scalars(riders)).all())
    if not ids:
        return []
    await db.execute(
        update(OutgoingEmail)
        .where(OutgoingEmail.id.in_(ids), _unsent(OutgoingEmail, now))
        .values(claim=claim, claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    taken = (
        select(OutgoingEmail)
        .where(OutgoingEmail.claim == claim)
        .order_by(OutgoingEmail.id)
        .execution_options(populate_existing=True)
    )
    return (await db.scalars(taken)).all()


def mark_sent(message: OutgoingEmail) -> None:
    message.sent_at = utcnow()
    message.attempts += 1
    message.last_error = None
    message.claimed_until = None


def mark_failed(message: OutgoingEmail, error: str) -> None:
    """Back off exponentially: 30 s, 1 min, 2 min, … up to about an hour between attempts."""
    message.attempts += 1
    delay = min(30 * 2 ** (message.attempts - 1), 3600)
    message.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
    message.last_error = error[:500]
    message.claimed_until = None
