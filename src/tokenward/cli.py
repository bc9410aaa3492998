"""Command line: ``tokenward serve | migrate | createuser | reset-2fa | outbox | gateway``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

from tokenward.config import ConfigurationError, Settings
from tokenward.gateway.commands import add_gateway_commands, refuse_invalid_routes

__all__ = ["main", "worker_app"]


def _settings() -> Settings:
    try:
        return Settings.from_environment()
    except ConfigurationError as error:
        raise SystemExit(f"tokenward: {error}") from None


async def _migrate(settings: Settings) -> None:
    from tokenward.store.engine import Store
    from tokenward.store.migrate import upgrade

    store = Store(settings.database_url)
    try:
        await upgrade(store.engine)
    finally:
        await store.close()


def _run_migrations(settings: Settings) -> None:
    try:
        asyncio.run(_migrate(settings))
    except (OSError, ConnectionError) as error:
        raise SystemExit(f"tokenward: cannot reach the database: {error}") from None


def _describe_database(settings: Settings) -> str:
    url = settings.database_url
    if "@" in url:  # hide any password in postgresql://user:password@host/db
        scheme, _, rest = url.partition("://")
        url = f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def command_migrate(_: argparse.Namespace) -> int:
    settings = _settings()
    _run_migrations(settings)
    print(f"Migrations applied to {_describe_database(settings)}")
    return 0


def worker_app() -> Any:
    """The application of one ``serve --workers N`` process, built from the environment."""
    from tokenward.app import create_app

    return create_app(_settings())


def _check_workers(settings: Settings, workers: int) -> None:
    if workers < 1:
        raise SystemExit("tokenward: --workers must be at least 1")
    if workers > 1 and settings.is_sqlite:
        raise SystemExit(
            "tokenward: --workers above 1 needs PostgreSQL. With SQLite, run one process: "
            "its caches are kept coherent only within that process. "
            "Set TOKENWARD_DATABASE_URL=postgresql://... to run several."
        )


def command_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from tokenward.app import create_app

    settings = _settings()
    _check_workers(settings, args.workers)
    refuse_invalid_routes(settings.gateway_routes)
    if not args.no_migrate:
        _run_migrations(settings)
    # Several workers each build their own app (and caches) from the environment.
    app: Any = "tokenward.cli:worker_app" if args.workers > 1 else create_app(settings)
    url = f"http://{args.host}:{args.port}/"
    print(f"Tokenward is serving {url} with {_describe_database(settings)}", flush=True)
    print(
        "Create the first user in another terminal (it asks for a password) with:\n"
        "  .venv/bin/tokenward createuser --email you@example.com --name 'Your Name'\n"
        f"then sign in at {url}login/",
        flush=True,
    )
    if settings.smtp_url is None:
        print(
            "Email notices stay in the outbox until TOKENWARD_SMTP_URL is set; "
            "read them with: .venv/bin/tokenward outbox",
            flush=True,
        )
    with _shared_metrics(args.workers):
        uvicorn.run(
            app,
            factory=args.workers > 1,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            proxy_headers=args.proxy_headers,
            forwarded_allow_ips=args.forwarded_allow_ips,
            server_header=False,
        )
    return 0


@contextlib.contextmanager
def _shared_metrics(workers: int) -> Iterator[None]:
    """Several workers: a fresh private directory where they all keep their metrics (a stale
    one would carry another run's counts); removed when the server stops."""
    if workers == 1:
        yield
        return
    from tokenward.metrics import MULTIPROCESS_DIRECTORY

    with tempfile.TemporaryDirectory(prefix="tokenward-metrics-") as directory:
        os.environ[MULTIPROCESS_DIRECTORY] = directory  # the workers inherit it
        try:
            yield
        finally:
            os.environ.pop(MULTIPROCESS_DIRECTORY, None)


async def _create_user(settings: Settings, email: str, password: str, name: str) -> str:
    from tokenward.actions.accounts import create_user
    from tokenward.store.engine import Store
    from tokenward.store.migrate import upgrade

    store = Store(settings.database_url)
    try:
        await upgrade(store.engine)
        async with store.session() as db:
            user = await create_user(db, email=email, password=password, name=name)
            return user.email
    finally:
        await store.close()


def command_createuser(args: argparse.Namespace) -> int:
    from tokenward.errors import ApiError

    settings = _settings()
    email = args.email or input("Email: ").strip()
    password = args.password
    if password is None:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            print("tokenward: the passwords do not match", file=sys.stderr)
            return 1
    name = args.name if args.name is not None else ("" if args.email else input("Name: ").strip())
    try:
        created = asyncio.run(_create_user(settings, email, password, name))
    except ApiError as error:
        invalid = error.extra.get("errors", [{}])[0] if error.extra else {}
        # e.g. "password must be at least 8 characters long", not the API's generic message
        reason = (
            f"{invalid['field']} {invalid['message']}"
            if invalid.get("field") and invalid.get("message")
            else error.message
        )
        print(f"tokenward: {reason}", file=sys.stderr)
        return 1
    except (OSError, ConnectionError) as error:
        print(f"tokenward: cannot reach the database: {error}", file=sys.stderr)
        return 1
    print(f"Created user {created}")
    return 0


def command_reset_2fa(args: argparse.Namespace) -> int:
    from tokenward.operator_commands import reset_second_factor

    try:
        reset = asyncio.run(reset_second_factor(_settings(), args.email))
    except (OSError, ConnectionError) as error:
        print(f"tokenward: cannot reach the database: {error}", file=sys.stderr)
        return 1
    if reset is None:
        print(f"tokenward: no user with the email {args.email}", file=sys.stderr)
        return 1
    print(
        f"Two-factor authentication removed for {reset}, with their recovery codes. "
        "They were emailed, and each of their organizations' audit logs says so."
    )
    return 0


def command_outbox(args: argparse.Namespace) -> int:
    from tokenward.operator_commands import outbox_messages

    try:
        messages = asyncio.run(
            outbox_messages(_settings(), limit=max(args.limit, 1), unsent_only=args.unsent)
        )
    except (OSError, ConnectionError) as error:
        print(f"tokenward: cannot reach the database: {error}", file=sys.stderr)
        return 1
    if not messages:
        print("The outbox is empty.")
    for email in messages:
        if email.sent_at is not None:
            state = f"sent {email.sent_at:%Y-%m-%d %H:%M} UTC"
        else:
            state = f"not sent, goes at {email.due_at:%Y-%m-%d %H:%M:%S} UTC or later"
        grouped = f" (notices {', '.join(f'#{i}' for i in email.ids)} in one email)"
        number = f"#{email.ids[0]}" + (grouped if len(email.ids) > 1 else "")
        print(f"--- {number} to {email.recipient} · {', '.join(email.kinds)} · {state}")
        print(f"Subject: {email.notice.subject}\n")
        print(email.notice.body.rstrip() + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokenward", description="Organizations decide which API tokens may act on them."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server (API and pages)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (more than 1 needs PostgreSQL)",
    )
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        help="trust X-Forwarded-For/-Proto from --forwarded-allow-ips",
    )
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    serve.set_defaults(handler=command_serve)

    migrate = commands.add_parser("migrate", help="apply pending migrations and exit")
    migrate.set_defaults(handler=command_migrate)

    createuser = commands.add_parser("createuser", help="create a user")
    createuser.add_argument("--email")
    createuser.add_argument("--password")
    createuser.add_argument("--name")
    createuser.set_defaults(handler=command_createuser)

    reset_2fa = commands.add_parser(
        "reset-2fa",
        help="remove a person's two-factor authentication and recovery codes (audited, emailed)",
    )
    reset_2fa.add_argument("--email", required=True)
    reset_2fa.set_defaults(handler=command_reset_2fa)

    outbox = commands.add_parser("outbox", help="print the newest email notices, sent or not")
    outbox.add_argument("--limit", type=int, default=20)
    outbox.add_argument("--unsent", action="store_true", help="only notices not sent yet")
    outbox.set_defaults(handler=command_outbox)

    add_gateway_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
