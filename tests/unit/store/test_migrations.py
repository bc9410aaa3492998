"""Migrations build exactly the schema the code describes, from empty, on both backends; and
several processes may migrate one PostgreSQL database at once (an advisory lock serializes them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from tests.support import ON_POSTGRES, POSTGRES_ADMIN_URL, _migrate, run_async
from tokenward.config import normalize_database_url
from tokenward.store.engine import Store
from tokenward.store.tables import Base

TOKENWARD = str(Path(sys.executable).with_name("tokenward"))


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(params=[ON_POSTGRES])
def empty_postgres() -> Iterator[str]:
    name = f"tokenward_migrations_{uuid.uuid4().hex[:10]}"
    run_async(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        run_async(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _schema_drift(database_url: str) -> list[object]:
    store = Store(database_url)
    try:
        async with store.engine.connect() as connection:
            return await connection.run_sync(_differences)
    finally:
        await store.close()


def test_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    run_async(_migrate(url))
    assert run_async(_schema_drift(url)) == []


def test_migrations_match_the_models_on_postgresql(empty_postgres: str) -> None:
    url = normalize_database_url(empty_postgres)
    run_async(_migrate(url))
    assert run_async(_schema_drift(url)) == []


def test_several_processes_migrate_one_database_at_once(empty_postgres: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TOKENWARD_")}
    env["TOKENWARD_DATABASE_URL"] = empty_postgres
    env["TOKENWARD_SECRET_KEY"] = uuid.uuid4().hex
    processes = [
        subprocess.Popen(
            [TOKENWARD, "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    results = [
        (p.wait(timeout=120), p.stderr.read().decode() if p.stderr else "") for p in processes
    ]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    assert run_async(_schema_drift(normalize_database_url(empty_postgres))) == []
