"""Which queued notices make one email, and its words: a recipient's grouped notices go as one
email with a section per notice, grouped by organization; any other notice goes on its own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from tokenward.notices.messages import Notice
from tokenward.notices.outbox import subject_line
from tokenward.store.tables import OutgoingEmail

__all__ = ["Email", "emails_of"]

_PREFIX = "[Tokenward] "


@dataclass(frozen=True)
class Email:
    ids: tuple[int, ...]  # the outbox rows it settles, oldest first
    recipient: str
    kinds: tuple[str, ...]
    notice: Notice
    sent_at: dt.datetime | None  # when it went, or None while any of its notices waits
    due_at: dt.datetime  # when it goes (or next tries to), if not sent


def _organization(message: OutgoingEmail) -> str:
    return str((message.state or {}).get("organization", ""))


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def combined_notice(messages: Sequence[OutgoingEmail]) -> Notice:
    """One notice alone reads as it always has; several become numbered sections."""
    if len(messages) == 1:
        return Notice(messages[0].subject, messages[0].body)
    organizations = list(dict.fromkeys(_organization(m) for m in messages if _organization(m)))
    ordered = sorted(messages, key=lambda m: (organizations.index(_organization(m)), m.id))
    where = f" in {_names(organizations)}" if organizations else ""
    subject = f"{_PREFIX}Changes{where} that affect you"
    sections = [
        f"{number}. {m.subject.removeprefix(_PREFIX)}\n\n{m.body.rstrip()}\n"
        for number, m in enumerate(ordered, start=1)
    ]
    opening = (
        f"Changes{where} affect you. Each one below says what changed, what it means for you "
        "and what to do, as things stand now.\n\n"
    )
    return Notice(subject_line(subject), opening + "\n".join(sections))


def emails_of(messages: Sequence[OutgoingEmail]) -> list[Email]:
    """The emails ``messages`` make, in the order of their oldest notice. Grouped notices to one
    recipient make one email per ``key`` (the sender pass that took them, or none yet)."""
    groups: dict[tuple[str, str | None] | int, list[OutgoingEmail]] = {}
    for message in sorted(messages, key=lambda m: m.id):
        key = (
            message.id
            if message.topic is None
            else (message.recipient, message.claim if message.sent_at else None)
        )
        groups.setdefault(key, []).append(message)
    return [
        Email(
            ids=tuple(m.id for m in group),
            recipient=group[0].recipient,
            kinds=tuple(dict.fromkeys(m.kind for m in group)),
            notice=combined_notice(group),
            sent_at=None if any(m.sent_at is None for m in group) else group[0].sent_at,
            due_at=min(m.next_attempt_at for m in group),
        )
        for group in groups.values()
    ]
