"""Notices about settings changes, held a short while and kept current until sent.

Each held notice has a topic (e.g. one organization's rules) and remembers the state its
recipient last knew, the state before the first change they have not been told about yet. A
further change about the same topic computes the notice again from that state to the state now:
the email says where things ended up, and a change undone before it went says nothing at all.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.notices.messages import Notice
from tokenward.notices.outbox import enqueue, held, subject_line

__all__ = ["Told", "queue_latest"]

# Recipient email → the notice owed and its kind.
Told = dict[str, tuple[Notice, str]]
# Whom to tell what, given the state they last knew, about the state as it is now.
Tell = Callable[[dict[str, Any]], Awaitable[Told]]


def _key(state: dict[str, Any]) -> str:
    return json.dumps(state, sort_keys=True, default=str)


async def queue_latest(
    db: AsyncSession,
    *,
    topic: str,
    organization: str,
    before: dict[str, Any],
    tell: Tell,
    delay_seconds: float,
) -> int:
    """Queue what a change from ``before`` owes, in the caller's transaction; returns how many
    people this change alone tells. With no delay, each notice is queued to go at once."""
    told = await tell(before)
    if delay_seconds <= 0:
        for recipient, (notice, kind) in told.items():
            enqueue(db, recipient=recipient, subject=notice.subject, body=notice.body, kind=kind)
        return len(told)
    waiting: dict[str, list[Any]] = {}
    for message in await held(db, topic):
        waiting.setdefault(message.recipient, []).append(message)
    recomputed = {_key(before): told}
    for recipient, (oldest, *newer) in waiting.items():
        last_known: dict[str, Any] = (oldest.state or {}).get("before", {})
        key = _key(last_known)
        if key not in recomputed:
            recomputed[key] = await tell(last_known)
        owed = recomputed[key].get(recipient)
        for superseded in newer:  # only a race leaves two; the oldest knows the earlier state
            await db.delete(superseded)
        if owed is None:
            await db.delete(oldest)  # back where they were: nothing to say
        else:
            notice, kind = owed
            oldest.subject = subject_line(notice.subject)
            oldest.body = notice.body
            oldest.kind = kind
            oldest.state = {"before": last_known, "organization": organization}
    for recipient, (notice, kind) in told.items():
        if recipient not in waiting:
            enqueue(
                db,
                recipient=recipient,
                subject=notice.subject,
                body=notice.body,
                kind=kind,
                topic=topic,
                state={"before": before, "organization": organization},
                delay_seconds=delay_seconds,
            )
    return len(told)
