"""Writing one batch of token usage: a few statements, whatever the number of requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, Table, bindparam, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tokenward.store.tables import Base, Identifier, OrganizationToken, PersonalToken

__all__ = ["ORGANIZATION", "PERSONAL", "CountKey", "TokenUsage", "UseKey", "write_usage"]

PERSONAL = "personal"
ORGANIZATION = "organization"
UseKey = tuple[str, int]  # (token kind, token id)
CountKey = tuple[str, int, int, dt.date]  # (token kind, token id, organization id, day)


class TokenUsage(Base):
    """Requests the gate allowed and denied, per token, organization and UTC day (0002)."""

    __tablename__ = "token_usage"
    __table_args__ = (Index("ix_token_usage_organization_id_day", "organization_id", "day"),)

    token_kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # PERSONAL | ORGANIZATION
    token_id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    allowed: Mapped[int] = mapped_column(BigInteger, default=0)
    denied: Mapped[int] = mapped_column(BigInteger, default=0)
    # Allowed only because the organization runs its personal-token rules in report mode (0003).
    would_be_denied: Mapped[int] = mapped_column(BigInteger, default=0)


_ROWS_PER_STATEMENT = 1000  # well under PostgreSQL's 32767 bind parameters
_TOKEN_TABLES: dict[str, Table] = {
    PERSONAL: PersonalToken.__table__,  # type: ignore[dict-item]
    ORGANIZATION: OrganizationToken.__table__,  # type: ignore[dict-item]
}


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        yield rows[start : start + _ROWS_PER_STATEMENT]


async def _touch(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> int:
    """One executemany: last_used_at moves forward only."""
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .where(or_(table.c.last_used_at.is_(None), table.c.last_used_at < bindparam("b_at")))
        .values(last_used_at=bindparam("b_at"))
    )
    await session.execute(statement, rows)
    return 1


async def _add_counts(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statements = 0
    for chunk in _chunks(rows):
        insert = dialect.insert(TokenUsage).values(chunk)
        upsert = insert.on_conflict_do_update(
            index_elements=["token_kind", "token_id", "organization_id", "day"],
            set_={
                "allowed": TokenUsage.allowed + insert.excluded.allowed,
                "denied": TokenUsage.denied + insert.excluded.denied,
                "would_be_denied": TokenUsage.would_be_denied + insert.excluded.would_be_denied,
            },
        )
        await session.execute(upsert)
        statements += 1
    return statements


async def write_usage(
    session: AsyncSession,
    last_used: Mapping[UseKey, dt.datetime],
    counts: Mapping[CountKey, tuple[int, int, int]],
) -> int:
    """Write one batch in one transaction; returns the number of write statements issued."""
    statements = 0
    for kind, table in _TOKEN_TABLES.items():
        rows = [
            {"b_id": token_id, "b_at": at} for (k, token_id), at in last_used.items() if k == kind
        ]
        if rows:
            statements += await _touch(session, table, rows)
    count_rows = [
        {
            "token_kind": kind,
            "token_id": token_id,
            "organization_id": organization_id,
            "day": day,
            "allowed": allowed,
            "denied": denied,
            "would_be_denied": would_be_denied,
        }
        for (kind, token_id, organization_id, day), (allowed, denied, would_be_denied) in sorted(
            counts.items()
        )
    ]
    if count_rows:
        statements += await _add_counts(session, count_rows)
    await session.commit()
    return statements
