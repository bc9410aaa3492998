"""Apply Alembic migrations. On PostgreSQL an advisory lock lets many processes start at once."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")
# An arbitrary constant shared by every Tokenward process: "tokenward" in ASCII, folded to 63 bits.
MIGRATIONS_LOCK_KEY = 0x746F6B656E77617264 & 0x7FFFFFFFFFFFFFFF


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # Held until commit: a second process waits here, then finds nothing left to do.
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATIONS_LOCK_KEY}
            )
        await connection.run_sync(_upgrade)
        await connection.commit()
