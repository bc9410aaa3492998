"""What the operator's commands do to the store: reset a person's second factor, read the
outbox. ``cli`` parses arguments and prints; these functions only read and write."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.config import Settings
from tokenward.notices.digest import Email, emails_of
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


async def outbox_messages(settings: Settings, *, limit: int, unsent_only: bool) -> list[Email]:
    """The newest emails, newest first, as they were or will be sent: a recipient's grouped
    notices as one email. Notices never carry a secret (see notices.messages)."""
    store = Store(settings.database_url)
    try:
        await upgrade(store.engine)
        async with store.session() as db:
            query = select(OutgoingEmail).order_by(OutgoingEmail.id.desc()).limit(limit)
            if unsent_only:
                query = query.where(OutgoingEmail.sent_at.is_(None))
            newest = list((await db.scalars(query)).all())
            messages = newest + list(await _rest_of_their_emails(db, newest))
    finally:
        await store.close()
    return sorted(emails_of(messages), key=lambda e: e.ids[-1], reverse=True)[:limit]


async def _rest_of_their_emails(
    db: AsyncSession, messages: list[OutgoingEmail]
) -> Sequence[OutgoingEmail]:
    """The grouped notices that share an email with ``messages`` but are not among them."""
    grouped = [m for m in messages if m.topic is not None]
    claims = {m.claim for m in grouped if m.sent_at is not None}
    waiting = {m.recipient for m in grouped if m.sent_at is None}
    if not claims and not waiting:
        return []
    query = select(OutgoingEmail).where(
        OutgoingEmail.topic.is_not(None),
        OutgoingEmail.id.not_in({m.id for m in messages}),
        or_(
            OutgoingEmail.claim.in_(claims) & OutgoingEmail.sent_at.is_not(None),
            OutgoingEmail.recipient.in_(waiting) & OutgoingEmail.sent_at.is_(None),
        ),
    )
    return (await db.scalars(query)).all()
