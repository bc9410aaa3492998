"""Leaked tokens: revoke every live token in a report at once, and tell who needs to know.

A report comes from a secret scanner or from a signed-in person. The whole batch costs a few
statements whatever its size: one lookup per token kind, one conditional revoke per kind, one
query for the organizations each token acted on, one for their owners. Revocation goes through
``commit_changes``, as a user's own revoke does, so every process's caches forget the tokens.
A token already revoked changes nothing more: no second email, no second audit entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward import credentials
from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.notices.leak_messages import (
    leaked_organization_token_notice,
    leaked_personal_token_notice,
)
from tokenward.notices.messages import Notice
from tokenward.notices.outbox import subject_line
from tokenward.store.tables import (
    AuditLogEntry,
    Membership,
    Organization,
    OrganizationToken,
    OutgoingEmail,
    PersonalToken,
    User,
    utcnow,
)
from tokenward.store.usage import PERSONAL, TokenUsage

__all__ = ["LEAKED", "MAX_ITEMS", "LeakReporter", "LeakVerdict", "ReportedLeak", "report_leaks"]

LEAKED = "leaked"
MAX_ITEMS = 1000
ACTED_ON_DAYS = 90
_URL_LENGTH = 2000
_SOURCE_LENGTH = 100
_TYPE_LENGTH = 200


@dataclass(frozen=True)
class ReportedLeak:
    """One reported string and where it was found. ``token`` is a secret: never log it."""

    token: str
    type: str = ""
    url: str = ""
    source: str = ""

    def __repr__(self) -> str:
        return f"ReportedLeak(type={self.type!r}, url={self.url!r}, source={self.source!r})"


@dataclass(frozen=True)
class LeakReporter:
    """Who reported: a scanner (no user) or a signed-in person; recorded as the audit actor."""

    actor_type: str
    actor_id: str | None
    actor_name: str
    ip_address: str | None


@dataclass(frozen=True)
class LeakVerdict:
    token_hash: str
    token_type: str
    label: str  # "true_positive" | "false_positive"


def reported_hash(value: str) -> str:
    """SHA-256 of the reported string as sent, whatever it is, so a scanner can match it."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _clean(value: str, limit: int) -> str:
    """Where a leak was found ends up in emails and the audit log: one line, bounded."""
    return "".join(c for c in value if c.isprintable())[:limit]


@dataclass
class _Leak:
    url: str
    source: str


async def report_leaks(
    db: AsyncSession, items: Sequence[ReportedLeak], reporter: LeakReporter, base_url: str
) -> list[LeakVerdict]:
    """Revoke the live tokens among ``items`` in one transaction; one verdict per item."""
    digests: list[str | None] = []
    by_kind: dict[credentials.TokenKind, dict[str, _Leak]] = defaultdict(dict)
    for item in items:
        try:
            parsed = credentials.parse(item.token)
        except credentials.MalformedToken:
            digests.append(None)
            continue
        digests.append(parsed.digest)
        by_kind[parsed.kind].setdefault(
            parsed.digest, _Leak(_clean(item.url, _URL_LENGTH), _clean(item.source, _SOURCE_LENGTH))
        )
    known: set[str] = set()
    changes: list[Change] = []
    writes = _Writes(reporter)
    personal = by_kind.get(credentials.TokenKind.PERSONAL)
    if personal:
        known |= await _revoke_personal(db, personal, writes, base_url, changes)
    organization = by_kind.get(credentials.TokenKind.ORGANIZATION)
    if organization:
        known |= await _revoke_organization(db, organization, writes, base_url, changes)
    await writes.insert(db)
    await commit_changes(db, *changes)
    return [
        LeakVerdict(
            reported_hash(item.token),
            _clean(item.type, _TYPE_LENGTH),  # echoed back: printable text only
            "true_positive" if digest is not None and digest in known else "false_positive",
        )
        for item, digest in zip(items, digests, strict=True)
    ]


@dataclass
class _Writes:
    """The audit entries and notices of one report: one insert statement each, however many."""

    reporter: LeakReporter
    audits: list[dict[str, Any]] = field(default_factory=list)
    emails: list[dict[str, Any]] = field(default_factory=list)

    def audit(self, organization_id: int, event: str, data: dict[str, Any]) -> None:
        self.audits.append(
            {
                "organization_id": organization_id,
                "event": event,
                "actor_type": self.reporter.actor_type,
                "actor_id": self.reporter.actor_id,
                "actor_name": self.reporter.actor_name[:254],
                "ip_address": self.reporter.ip_address,
                "data": data,
                "created_at": utcnow(),
            }
        )

    def notify(self, recipient: str, notice: Notice, kind: str) -> None:
        now = utcnow()
        self.emails.append(
            {
                "recipient": recipient,
                "subject": subject_line(notice.subject),
                "body": notice.body,
                "kind": kind,
                "created_at": now,
                "next_attempt_at": now,
                "attempts": 0,
            }
        )

    async def insert(self, db: AsyncSession) -> None:
        if self.audits:
            await db.execute(insert(AuditLogEntry), self.audits)
        if self.emails:
            await db.execute(insert(OutgoingEmail), self.emails)


async def _owners_of(db: AsyncSession, organization_ids: set[int]) -> dict[int, list[str]]:
    if not organization_ids:
        return {}
    rows = await db.execute(
        select(Membership.organization_id, User.email)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id.in_(organization_ids), Membership.role == "owner")
        .order_by(User.email)
    )
    owners: dict[int, list[str]] = defaultdict(list)
    for organization_id, email in rows.all():
        owners[organization_id].append(email)
    return owners


async def _revoke_personal(
    db: AsyncSession,
    leaks: dict[str, _Leak],
    writes: _Writes,
    base_url: str,
    changes: list[Change],
) -> set[str]:
    rows = await db.execute(
        select(PersonalToken.id, PersonalToken.token_hash).where(
            PersonalToken.token_hash.in_(list(leaks))
        )
    )
    hashes = {token_id: digest for token_id, digest in rows.all()}
    if not hashes:
        return set()
    # Conditional, so that of two reports racing for one token exactly one tells anybody.
    revoked = await db.scalars(
        update(PersonalToken)
        .where(PersonalToken.id.in_(list(hashes)), PersonalToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revocation_reason=LEAKED)
        .returning(PersonalToken.id)
    )
    newly = sorted(revoked.all())
    if newly:
        await _tell_about_personal(db, newly, hashes, leaks, writes, base_url)
        changes.extend(Change.personal_token(token_id) for token_id in newly)
    return set(hashes.values())


async def _tell_about_personal(
    db: AsyncSession,
    token_ids: list[int],
    hashes: dict[int, str],
    leaks: dict[str, _Leak],
    writes: _Writes,
    base_url: str,
) -> None:
    tokens = (
        await db.execute(
            select(PersonalToken, User)
            .join(User, User.id == PersonalToken.user_id)
            .where(PersonalToken.id.in_(token_ids))
        )
    ).all()
    since = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=ACTED_ON_DAYS)
    acted = (
        await db.execute(
            select(TokenUsage.token_id, Organization.id, Organization.name, Organization.slug)
            .join(Organization, Organization.id == TokenUsage.organization_id)
            .where(
                TokenUsage.token_kind == PERSONAL,
                TokenUsage.token_id.in_(token_ids),
                TokenUsage.day >= since,
                TokenUsage.allowed > 0,
            )
            .distinct()
        )
    ).all()
    organizations_of: dict[int, dict[int, tuple[str, str]]] = defaultdict(dict)
    for token_id, organization_id, name, slug in acted:
        organizations_of[token_id][organization_id] = (name, slug)
    owners_by_org = await _owners_of(db, {o for orgs in organizations_of.values() for o in orgs})
    for token, user in tokens:
        leak = leaks[hashes[token.id]]
        organizations = organizations_of.get(token.id, {})
        listed = sorted(organizations.values(), key=lambda pair: pair[1])
        told = {user.email}
        writes.notify(
            user.email,
            leaked_personal_token_notice(
                token_name=token.name,
                last_characters=token.token_last_characters,
                owner_email=user.email,
                organizations=listed,
                url=leak.url,
                source=leak.source,
                base_url=base_url,
                to_owner=True,
            ),
            "personal-token.leaked",
        )
        for organization_id in sorted(organizations):
            writes.audit(
                organization_id,
                "personal-token.leaked",
                {
                    "token_id": str(token.id),
                    "token_name": token.name,
                    "token_last_characters": token.token_last_characters,
                    "user_id": str(user.id),
                    "email": user.email,
                    "url": leak.url,
                    "source": leak.source,
                },
            )
            for email in owners_by_org.get(organization_id, ()):
                if email in told:
                    continue
                told.add(email)
                writes.notify(
                    email,
                    leaked_personal_token_notice(
                        token_name=token.name,
                        last_characters=token.token_last_characters,
                        owner_email=user.email,
                        organizations=listed,
                        url=leak.url,
                        source=leak.source,
                        base_url=base_url,
                        to_owner=False,
                    ),
                    "personal-token.leaked",
                )


async def _revoke_organization(
    db: AsyncSession,
    leaks: dict[str, _Leak],
    writes: _Writes,
    base_url: str,
    changes: list[Change],
) -> set[str]:
    rows = await db.execute(
        select(OrganizationToken.id, OrganizationToken.token_hash).where(
            OrganizationToken.token_hash.in_(list(leaks))
        )
    )
    hashes = {token_id: digest for token_id, digest in rows.all()}
    if not hashes:
        return set()
    revoked = await db.scalars(
        update(OrganizationToken)
        .where(OrganizationToken.id.in_(list(hashes)), OrganizationToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revocation_reason=LEAKED)
        .returning(OrganizationToken.id)
    )
    newly = sorted(revoked.all())
    if not newly:
        return set(hashes.values())
    tokens = (
        await db.execute(
            select(OrganizationToken, Organization)
            .join(Organization, Organization.id == OrganizationToken.organization_id)
            .where(OrganizationToken.id.in_(newly))
        )
    ).all()
    owners_by_org = await _owners_of(db, {o.id for _, o in tokens})
    for token, organization in tokens:
        leak = leaks[hashes[token.id]]
        writes.audit(
            organization.id,
            "org-token.leaked",
            {
                "token_id": str(token.id),
                "name": token.name,
                "token_last_characters": token.token_last_characters,
                "url": leak.url,
                "source": leak.source,
            },
        )
        notice = leaked_organization_token_notice(
            token_name=token.name,
            last_characters=token.token_last_characters,
            organization_name=organization.name,
            slug=organization.slug,
            url=leak.url,
            source=leak.source,
            base_url=base_url,
        )
        for email in owners_by_org.get(organization.id, ()):
            writes.notify(email, notice, "org-token.leaked")
    changes.extend(Change.organization_token(token_id) for token_id in newly)
    return set(hashes.values())
