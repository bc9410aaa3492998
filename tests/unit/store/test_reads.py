"""``Store.read``: the request path's lookups, by each backend's shortest way (asyncpg's prepared
statements on PostgreSQL, the loop's own thread for a SQLite file), with the values, the
failures and the statement counts the rest of the store would give."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from sqlalchemy import bindparam, column, delete, func, insert, literal, select, table, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from tests.conftest import BACKENDS
from tests.support import ON_POSTGRES, postgres_database, run_async
from tokenward.store.engine import Store
from tokenward.store.migrate import upgrade
from tokenward.store.reads import Reads
from tokenward.store.tables import Organization

_BY_SLUG = select(
    Organization.id,
    Organization.slug,
    Organization.created_at,
    Organization.require_2fa,
).where(Organization.slug == bindparam("slug"))
T = TypeVar("T")
_CREATED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@dataclass
class Seeded:
    database_url: str
    slug: str  # one organization of this test's own

    async def by_slug(self, reads: Reads) -> Sequence[Sequence[Any]]:
        return await reads.all(_BY_SLUG, {"slug": self.slug})

    def run(self, scenario: Callable[[Store], Awaitable[T]]) -> T:
        """``scenario`` on a store of its own, in one event loop (a store's pools are its)."""

        async def within() -> T:
            store = Store(self.database_url)
            try:
                return await scenario(store)
            finally:
                await store.close()

        result: T = run_async(within())
        return result


def _seeded(database_url: str) -> Seeded:
    seeded = Seeded(database_url, f"reads-{uuid.uuid4().hex[:12]}")

    async def seed(store: Store) -> None:
        await upgrade(store.engine)  # the session's databases are migrated by their servers
        async with store.session() as db:
            values = {"slug": seeded.slug, "name": "Reads", "created_at": _CREATED}
            await db.execute(insert(Organization).values(**values))
            await db.commit()

    seeded.run(seed)
    return seeded


@pytest.fixture(params=[ON_POSTGRES if b == "postgresql" else b for b in BACKENDS])
def seeded(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> Seeded:
    return _seeded(database_urls[request.param])


@pytest.fixture
def seeded_sqlite(database_urls: dict[str, str]) -> Seeded:
    return _seeded(database_urls["sqlite"])


def test_values_are_those_the_columns_types_give(seeded: Seeded) -> None:
    rows = seeded.run(lambda store: store.read(seeded.by_slug))
    assert len(rows) == 1
    _id, slug, created_at, require_2fa = rows[0]
    assert slug == seeded.slug
    assert created_at == _CREATED
    assert created_at.utcoffset() == dt.timedelta(0)
    assert require_2fa is False


def test_reads_see_each_latest_commit(seeded: Seeded) -> None:
    async def scenario(store: Store) -> tuple[int, int]:
        before = len(await store.read(seeded.by_slug))
        async with store.session() as db:
            await db.execute(delete(Organization).where(Organization.slug == seeded.slug))
            await db.commit()
        return before, len(await store.read(seeded.by_slug))

    assert seeded.run(scenario) == (1, 0)


def test_reads_cannot_write(seeded: Seeded) -> None:
    deleting = delete(Organization).where(Organization.slug == seeded.slug)

    async def write(reads: Reads) -> None:
        await reads.all(deleting.returning(Organization.id), {})  # type: ignore[arg-type]

    async def scenario(store: Store) -> int:
        with pytest.raises(OperationalError, match=r"read-?only"):
            await store.read(write)
        return len(await store.read(seeded.by_slug))

    assert seeded.run(scenario) == 1


def test_a_refused_statement_is_no_lost_store(seeded: Seeded) -> None:
    failures: list[str] = []

    missing = select(table("no_such_table", column("id")).c.id)

    async def refused(reads: Reads) -> None:
        await reads.all(missing, {})

    async def scenario(store: Store) -> None:
        store.on_failure(lambda: failures.append("lost"))
        with pytest.raises(SQLAlchemyError, match="no_such_table"):
            await store.read(refused)

    seeded.run(scenario)
    assert failures == []


_ONE = select(literal(1))


async def _one(reads: Reads) -> Sequence[Sequence[Any]]:
    return await reads.all(_ONE, {})


_SLEEP = select(func.pg_sleep(30))
_KILL_SLEEPER = text(
    "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()"
)


async def _sleeping(reads: Reads) -> None:
    await reads.all(_SLEEP, {})


@pytest.mark.postgres
def test_a_lost_postgresql_connection_fails_the_read_and_tells_the_store() -> None:
    """How a lost store distrusts the caches and marks itself down (``Store.on_failure``): the
    reads' own pool tells as SQLAlchemy's engine does; the next read connects anew."""
    failures: list[str] = []

    async def scenario(url: str) -> list[Any]:
        store = Store(url)
        store.on_failure(lambda: failures.append("lost"))
        try:
            answers: list[Any] = [await store.read(_one)]
            reading = asyncio.create_task(store.read(_sleeping))
            async with store.session() as db:  # the reader's connection, mid-statement
                for _ in range(1000):
                    if (await db.execute(_KILL_SLEEPER)).scalar():
                        break
                    await asyncio.sleep(0.01)  # the read has not reached the store yet
            with pytest.raises(OperationalError) as raised:
                await reading
            answers.append(raised.value.connection_invalidated)
            answers.append(await store.read(_one))
            return answers
        finally:
            await store.close()

    with postgres_database() as url:
        first, invalidated, again = run_async(scenario(url))
    assert [tuple(row) for row in first] == [(1,)]
    assert invalidated is True
    assert failures == ["lost"]
    assert [tuple(row) for row in again] == [(1,)]


def test_a_sqlite_file_is_read_on_the_callers_thread(seeded_sqlite: Seeded) -> None:
    async def thread(reads: Reads) -> int:
        await seeded_sqlite.by_slug(reads)
        return threading.get_ident()

    assert seeded_sqlite.run(lambda store: store.read(thread)) == threading.get_ident()


def test_statements_are_seen_on_every_path(seeded: Seeded) -> None:
    async def scenario(store: Store) -> list[str]:
        with store.statements() as seen:
            await store.read(seeded.by_slug)
            async with store.session() as db:
                await db.execute(select(Organization.id).limit(1))
        return seen

    seen = seeded.run(scenario)
    assert len(seen) == 2
    assert "organizations.slug" in seen[0]
    assert "LIMIT" in seen[1]
