"""Fixtures: one live server per backend (SQLite file, and a PostgreSQL database created for the
session and dropped after), shared by every API test; each test makes its own users and data."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.leakwatch import WATCH, LeakWatch, watching_every_log_record
from tests.mailbox import Mailbox
from tests.sso.rows import close_shared_provider
from tests.support import (
    ON_POSTGRES,
    LiveServer,
    World,
    cheap_password_hashing,
    postgres_database,
    running_server,
)

TESTS = Path(__file__).resolve().parent
# Each folder of tests/ is a suite with a marker of its name (``pytest -m security``), registered
# in pyproject.toml; tests/unit/ mirrors src/tokenward/ for tests of one module.
SUITES = frozenset(path.parent.name for path in TESTS.glob("*/__init__.py"))

if os.environ.get("TOKENWARD_TEST_CHEAP_HASHING") == "1":
    cheap_password_hashing()

BACKENDS = [
    b for b in os.environ.get("TOKENWARD_TEST_BACKENDS", "sqlite,postgresql").split(",") if b
]


@pytest.fixture(scope="session", autouse=True)
def secrets_never_leak() -> Iterator[LeakWatch]:
    """Fails the run if any issued secret shows up in a response or a log line (tests/leakwatch)."""
    root = logging.getLogger()
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    # uvicorn writes its access log only where some handler would take it.
    somewhere = logging.NullHandler()
    root.addHandler(somewhere)
    for noisy in ("sqlalchemy", "asyncio", "aiosqlite", "httpcore", "hpack", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with watching_every_log_record(WATCH):
        yield WATCH
    root.removeHandler(somewhere)
    root.setLevel(previous_level)
    leaks = [f"{leak.where}: {leak.what}" for leak in WATCH.leaks]
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks[:20])


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """One SMTP server for every test server that sends email over the shared test databases:
    their outboxes share one table, so any of them may send a notice another one queued."""
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def database_urls() -> Iterator[dict[str, str]]:
    with (
        tempfile.TemporaryDirectory(prefix="tokenward-test-") as directory,
        contextlib.ExitStack() as stack,
    ):
        urls = {"sqlite": f"sqlite+aiosqlite:///{Path(directory) / 'test.db'}"}
        if "postgresql" in BACKENDS:
            urls["postgresql"] = stack.enter_context(postgres_database())
        yield urls


@pytest.fixture(scope="session", params=[ON_POSTGRES if b == "postgresql" else b for b in BACKENDS])
def server(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> Iterator[LiveServer]:
    with running_server(database_urls[request.param]) as live:
        yield live


@pytest.fixture
def world(server: LiveServer) -> Iterator[World]:
    world = World(server)
    yield world
    world.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        suite = item.path.relative_to(TESTS).parts[0]
        if suite in SUITES:
            item.add_marker(suite)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    close_shared_provider()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Never end a run with a thread that would keep the process from exiting: Python joins every
    non-daemon thread before it runs ``atexit`` handlers, so such a thread turns a finished run
    into one that hangs until CI kills it. Name the threads and leave with a failure instead."""
    stuck = [
        thread.name
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and thread.is_alive() and not thread.daemon
    ]
    if stuck:
        sys.stderr.write(f"\nthreads still running at the end of the run: {stuck}\n")
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(pytest.ExitCode.TESTS_FAILED)
