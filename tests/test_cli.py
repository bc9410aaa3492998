"""The command line, run as a user would: ``tokenward migrate`` and ``tokenward createuser``."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.leakwatch import WATCH
from tests.support import UserAccount, World, run_async
from tokenward.config import normalize_database_url
from tokenward.passwords import verify_password
from tokenward.store.engine import Store
from tokenward.store.tables import User

TOKENWARD = str(Path(sys.executable).with_name("tokenward"))
PASSWORD = "a long enough password"
WATCH.password(PASSWORD)
# Each test starts the installed command in fresh interpreters.
pytestmark = pytest.mark.slow


def tokenward(directory: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TOKENWARD_")}
    env["TOKENWARD_DATABASE_URL"] = database_url
    env["TOKENWARD_SECRET_KEY"] = "cli-test-" + uuid.uuid4().hex
    result = subprocess.run(
        [TOKENWARD, *args],
        cwd=directory,  # no stray .env is read
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    WATCH.log_text(result.stdout + result.stderr, f"tokenward {args[0]} output")
    return result


async def _stored_user(database_url: str, email: str) -> tuple[str, str, bool]:
    store = Store(normalize_database_url(database_url))
    try:
        async with store.session() as db:
            user = (await db.scalars(select(User).where(User.email == email))).one()
            return user.name, user.password_hash, user.is_superuser
    finally:
        await store.close()


def test_migrate_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = tokenward(tmp_path, url, "migrate")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "fresh.db").exists()
    again = tokenward(tmp_path, url, "migrate")
    assert again.returncode == 0, again.stderr


def test_createuser_creates_then_refuses_a_taken_email_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    email = "Ada@Example.com"
    created = tokenward(
        tmp_path, url, "createuser", "--email", email, "--password", PASSWORD, "--name", "Ada"
    )
    assert created.returncode == 0, created.stderr
    assert "ada@example.com" in created.stdout
    assert PASSWORD not in created.stdout + created.stderr
    name, password_hash, superuser = run_async(_stored_user(url, "ada@example.com"))
    assert (name, superuser) == ("Ada", False)
    assert password_hash.startswith("$argon2")
    assert verify_password(password_hash, PASSWORD)

    taken = tokenward(tmp_path, url, "createuser", "--email", email.lower(), "--password", PASSWORD)
    assert taken.returncode != 0
    lines = taken.stderr.strip().splitlines()
    assert len(lines) == 1, taken.stderr
    assert "already exists" in lines[0]
    assert "Traceback" not in taken.stderr


def test_createuser_refuses_a_short_password_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'short.db'}"
    refused = tokenward(tmp_path, url, "createuser", "--email", "b@example.com", "--password", "x")
    assert refused.returncode != 0
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "password" in refused.stderr


def test_createuser_takes_the_plain_url_and_the_user_can_sign_in(
    tmp_path: Path, world: World
) -> None:
    used = world.server.settings.database_url
    plain = used.replace("+asyncpg", "").replace("+aiosqlite", "")
    assert plain.startswith(("sqlite:///", "postgresql://"))
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    created = tokenward(tmp_path, plain, "createuser", "--email", email, "--password", PASSWORD)
    assert created.returncode == 0, created.stderr
    session = world.login(UserAccount(email, "", PASSWORD))
    assert session.get("/api/0/users/me/").json()["email"] == email
