"""Attempt counters in the store: one atomic upsert reserves an attempt and answers the count."""

from __future__ import annotations

from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.store.tables import AttemptCounter

__all__ = ["forget_expired", "give_back", "reserve"]


async def reserve(
    db: AsyncSession, key: str, now: float, window_seconds: float
) -> tuple[int, float]:
    """Count one more attempt for ``key``; returns the attempts in its window (this one
    included) and when the window started. A window older than ``window_seconds`` starts over.

    The upsert locks the row (PostgreSQL) or the database (SQLite) until commit, so concurrent
    attempts each get their own number: no two can both be the tenth."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    stale = AttemptCounter.window_started <= now - window_seconds
    statement = dialect.insert(AttemptCounter).values(key=key, window_started=now, attempts=1)
    statement = statement.on_conflict_do_update(
        index_elements=[AttemptCounter.key],
        set_={
            "attempts": case((stale, 1), else_=AttemptCounter.attempts + 1),
            "window_started": case((stale, now), else_=AttemptCounter.window_started),
        },
    ).returning(AttemptCounter.attempts, AttemptCounter.window_started)
    attempts, window_started = (await db.execute(statement)).one()
    return int(attempts), float(window_started)


async def give_back(db: AsyncSession, key: str, window_started: float) -> None:
    """Uncount an attempt that turned out not to be a failure (same window only)."""
    await db.execute(
        update(AttemptCounter)
        .where(
            AttemptCounter.key == key,
            AttemptCounter.window_started == window_started,
            AttemptCounter.attempts > 0,
        )
        .values(attempts=AttemptCounter.attempts - 1)
    )


async def forget_expired(db: AsyncSession, before: float) -> None:
    await db.execute(delete(AttemptCounter).where(AttemptCounter.window_started < before))
