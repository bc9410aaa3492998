"""The SQLite database holds TOTP secrets: its files are readable by their owner only."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import World, running_server


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _use(path: Path) -> dict[str, int]:
    """Sign in, enrol a second factor (the files now hold a TOTP secret); the mode of each of
    the database's files while the server runs."""
    with running_server(f"sqlite+aiosqlite:///{path}") as server:
        world = World(server)
        try:
            session = world.session()
            assert session.post("/api/0/users/me/2fa/setup/").status_code == 201
            files = [path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))]
            return {file.name: _mode(file) for file in files if file.exists()}
        finally:
            world.close()


def test_a_new_database_and_its_wal_files_are_owner_only(tmp_path: Path, usual_umask: None) -> None:
    path = tmp_path / "fresh.db"
    assert _use(path) == {"fresh.db": 0o600, "fresh.db-wal": 0o600, "fresh.db-shm": 0o600}


def test_an_open_database_is_tightened_at_start_and_the_log_says_so(
    tmp_path: Path, usual_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:  # as an earlier version left it: 0644
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE earlier (x)")
    assert _mode(path) == 0o644
    with caplog.at_level(logging.WARNING, logger="tokenward.store"):
        modes = _use(path)
    assert set(modes.values()) == {0o600}
    assert any(str(path) in record.getMessage() for record in caplog.records)
