"""Settings from the environment: database URLs people write, the secret key, the cookie flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenward.config import ConfigurationError, Settings, normalize_database_url


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://tw@127.0.0.1/tw", "postgresql+asyncpg://tw@127.0.0.1/tw"),
        ("postgres://tw@db/tw", "postgresql+asyncpg://tw@db/tw"),
        ("postgresql+asyncpg://tw@db/tw", "postgresql+asyncpg://tw@db/tw"),
        ("sqlite:///./tokenward.db", "sqlite+aiosqlite:///./tokenward.db"),
        ("sqlite+aiosqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
    ],
)
def test_database_urls_map_to_the_async_drivers(given: str, used: str) -> None:
    assert normalize_database_url(given) == used


@pytest.mark.parametrize("given", ["mysql://x@y/z", "", "tokenward.db"])
def test_other_databases_are_refused(given: str) -> None:
    with pytest.raises(ConfigurationError, match="TOKENWARD_DATABASE_URL"):
        normalize_database_url(given)


@pytest.fixture(autouse=True)
def no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # a .env in the working directory would be read
    return tmp_path


def test_postgresql_needs_a_secret_key() -> None:
    with pytest.raises(ConfigurationError, match="TOKENWARD_SECRET_KEY"):
        Settings.from_environment({"TOKENWARD_DATABASE_URL": "postgresql://tw@db/tw"})


def test_sqlite_generates_a_secret_once_beside_the_file(no_dotenv: Path) -> None:
    env = {"TOKENWARD_DATABASE_URL": f"sqlite:///{no_dotenv / 'tw.db'}"}
    first = Settings.from_environment(env)
    second = Settings.from_environment(env)
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    key_file = no_dotenv / "tw.db.secret"
    assert key_file.stat().st_mode & 0o077 == 0
    assert first.secret_key not in repr(first)


def test_the_cookie_flag_and_defaults(no_dotenv: Path) -> None:
    base = {"TOKENWARD_DATABASE_URL": "postgresql://tw@db/tw", "TOKENWARD_SECRET_KEY": "k" * 40}
    assert Settings.from_environment(base).cookie_secure is False
    secure = Settings.from_environment({**base, "TOKENWARD_COOKIE_SECURE": "true"})
    assert secure.cookie_secure is True
    assert secure.database_url == "postgresql+asyncpg://tw@db/tw"
    default = Settings.from_environment({})
    assert default.database_url == "sqlite+aiosqlite:///./tokenward.db"
    assert (no_dotenv / "tokenward.db.secret").exists()


def test_the_notice_delay_is_two_minutes_and_zero_sends_at_once(no_dotenv: Path) -> None:
    base = {"TOKENWARD_DATABASE_URL": "postgresql://tw@db/tw", "TOKENWARD_SECRET_KEY": "k" * 40}
    assert Settings.from_environment(base).notice_delay_seconds == 120.0
    at_once = {**base, "TOKENWARD_NOTICE_DELAY_SECONDS": "0"}
    assert Settings.from_environment(at_once).notice_delay_seconds == 0.0
    for wrong in ("-1", "soon"):
        with pytest.raises(ConfigurationError, match="TOKENWARD_NOTICE_DELAY_SECONDS"):
            Settings.from_environment({**base, "TOKENWARD_NOTICE_DELAY_SECONDS": wrong})
    with pytest.raises(ConfigurationError, match="greater than 0"):
        Settings.from_environment({**base, "TOKENWARD_OUTBOX_INTERVAL_SECONDS": "0"})
