"""Settings, read from the environment (and an optional ``.env`` file in the working directory)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_BASE_URL",
    "ConfigurationError",
    "Settings",
    "ThrottleLimits",
    "normalize_database_url",
]

DEFAULT_DATABASE_URL = "sqlite:///./tokenward.db"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class ConfigurationError(RuntimeError):
    pass


def normalize_database_url(url: str) -> str:
    """Map the URLs people write to the async drivers Tokenward uses."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise ConfigurationError(
        "TOKENWARD_DATABASE_URL must start with sqlite:/// or postgresql:// "
        "(e.g. sqlite:///./tokenward.db or postgresql://user@127.0.0.1/tokenward)"
    )


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix) or url.endswith(":memory:"):
        return None
    return Path(url[len(prefix) :])


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def _stored_secret_key(database_path: Path) -> str:
    """Generate the secret once and keep it beside the SQLite file, readable by its owner only."""
    key_path = database_path.with_name(database_path.name + ".secret")
    if key_path.exists():
        return key_path.read_text(encoding="ascii").strip()
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _number(env: dict[str, str], name: str, default: float, *, zero_allowed: bool = False) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None
    if value < 0 or (value == 0 and not zero_allowed):
        least = "0 or more" if zero_allowed else "greater than 0"
        raise ConfigurationError(f"{name} must be {least}")
    return value


@dataclass(frozen=True)
class ThrottleLimits:
    """How many failed attempts a window allows (docs/operations.md)."""

    per_address: int | None = 30  # failed sign-ins from one client address (None: not counted)
    per_email: int = 10  # failed sign-ins for one email
    per_user: int = 10  # wrong second-factor codes of one signed-in user
    window_seconds: float = 300.0


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    cookie_secure: bool = False
    session_max_age_seconds: int = 14 * 24 * 3600
    max_body_bytes: int = 1024 * 1024
    # A request body not all there within this time is answered 408 (docs/operations.md).
    body_timeout_seconds: float = 10.0
    # Guessing limits: failed sign-ins per email and per address, wrong codes per user, per window.
    throttle_limits: ThrottleLimits = ThrottleLimits()
    # The fast path (docs/operations.md): cache bounds and TTL backstop, usage batch interval.
    cache_ttl_seconds: float = 5.0
    cache_max_entries: int = 100_000
    usage_flush_seconds: float = 3.0
    # Notices: where to send them, as whom, and the address links in them point to.
    smtp_url: str | None = None
    email_from: str = "Tokenward <tokenward@localhost>"
    base_url: str = DEFAULT_BASE_URL
    outbox_interval_seconds: float = 5.0
    # How long a notice about a settings change is held so that the changes one person is told
    # about within that time go out as one email; 0 sends each at once (docs/operations.md).
    notice_delay_seconds: float = 120.0
    # Gateway mode: the route rules file for /forward-auth (off when None).
    gateway_routes: str | None = None
    # GitHub's key file for signed leaked-token reports; without it that endpoint answers 404.
    secret_scanning_keys: str | None = None

    def __repr__(self) -> str:
        return f"Settings(database_url={self.database_url!r}, cookie_secure={self.cookie_secure})"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        env = {**_read_dotenv(Path(".env")), **(os.environ if environ is None else environ)}
        url = normalize_database_url(env.get("TOKENWARD_DATABASE_URL") or DEFAULT_DATABASE_URL)
        secret = env.get("TOKENWARD_SECRET_KEY", "")
        if not secret:
            path = _sqlite_path(url)
            if path is None:
                raise ConfigurationError(
                    "TOKENWARD_SECRET_KEY is required with PostgreSQL: set the same long random "
                    "value on every server process"
                )
            secret = _stored_secret_key(path)
        return cls(
            database_url=url,
            secret_key=secret,
            cookie_secure=_truthy(env.get("TOKENWARD_COOKIE_SECURE")),
            cache_ttl_seconds=_number(env, "TOKENWARD_CACHE_TTL_SECONDS", 5.0),
            cache_max_entries=int(_number(env, "TOKENWARD_CACHE_MAX_ENTRIES", 100_000)),
            usage_flush_seconds=_number(env, "TOKENWARD_USAGE_FLUSH_SECONDS", 3.0),
            smtp_url=env.get("TOKENWARD_SMTP_URL") or None,
            email_from=env.get("TOKENWARD_EMAIL_FROM") or "Tokenward <tokenward@localhost>",
            base_url=(env.get("TOKENWARD_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
            outbox_interval_seconds=_number(env, "TOKENWARD_OUTBOX_INTERVAL_SECONDS", 5.0),
            notice_delay_seconds=_number(
                env, "TOKENWARD_NOTICE_DELAY_SECONDS", 120.0, zero_allowed=True
            ),
            body_timeout_seconds=_number(env, "TOKENWARD_BODY_TIMEOUT_SECONDS", 10.0),
            throttle_limits=ThrottleLimits(
                per_address=int(_number(env, "TOKENWARD_SIGN_IN_LIMIT_PER_ADDRESS", 30)),
                per_email=int(_number(env, "TOKENWARD_SIGN_IN_LIMIT_PER_EMAIL", 10)),
                per_user=int(_number(env, "TOKENWARD_CODE_LIMIT_PER_USER", 10)),
                window_seconds=_number(env, "TOKENWARD_ATTEMPT_WINDOW_SECONDS", 300.0),
            ),
            gateway_routes=env.get("TOKENWARD_GATEWAY_ROUTES") or None,
            secret_scanning_keys=env.get("TOKENWARD_SECRET_SCANNING_KEYS") or None,
        )
