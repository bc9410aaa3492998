"""How many leaks each user reported per hour: a counter in the store, shared by every process."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tokenward.store.tables import Base, Identifier

__all__ = ["reserve_report"]


class LeakReportQuota(Base):
    """Reports one user made in one window (seconds since the epoch // window length) (0009)."""

    __tablename__ = "leak_report_quota"

    user_id: Mapped[int] = mapped_column(
        Identifier, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reports: Mapped[int] = mapped_column(Integer)


async def reserve_report(db: AsyncSession, user_id: int, window: int) -> int:
    """Count one more report in ``window`` before it is looked at; returns the new count.

    One upsert, atomic on both backends, so concurrent reports from several processes cannot
    all slip under the limit. The caller commits.
    """
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(LeakReportQuota).values(user_id=user_id, window=window, reports=1)
    upsert = insert.on_conflict_do_update(
        index_elements=["user_id", "window"],
        set_={"reports": LeakReportQuota.reports + 1},
    ).returning(LeakReportQuota.reports)
    count = await db.scalar(upsert)
    await db.execute(
        delete(LeakReportQuota).where(
            LeakReportQuota.user_id == user_id, LeakReportQuota.window < window
        )
    )
    return int(count or 0)
