"""What the operator's commands do to the store: reset a person's second factor, read the
outbox. ``cli`` parses arguments and prints; these functions only read and write."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from tokenward.config import Settings
from tokenward.store.engine import Store
from tokenward.store.migrate import upgrade
from tokenward.store.tables import OutgoingEmail

__all__ = ["outbox_messages", "reset_second_factor"]


async def reset_second_factor(settings: Settings, email: str) -> str | None:
    """Remove ``email``'s second factor and recovery codes; None for an unknown email."""
    from tokenward.actions.recovery_codes import reset_two_factor

    store = Store(settings.database_url)
    try:
        await upgrade(store.engine)
        async with store.session() as db:
            user = await reset_two_factor(db, email)
            return user.email if user is not None else None
    finally:
        await store.close()


async def outbox_messages(
    settings: Settings, *, limit: int, unsent_only: bool
) -> Sequence[OutgoingEmail]:
    """The newest notices, newest first. Notices never carry a secret (see notices.messages)."""
    store = Store(settings.database_url)
    try:
        await upgrade(store.engine)
        async with store.session() as db:
            query = select(OutgoingEmail).order_by(OutgoingEmail.id.desc()).limit(limit)
            if unsent_only:
                query = query.where(OutgoingEmail.sent_at.is_(None))
            return (await db.scalars(query)).all()
    finally:
        await store.close()
