"""A temporary PostgreSQL database and Tokenward server processes for one benchmark run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import httpx

from tokenward.config import normalize_database_url
from tokenward.store.engine import Store
from tokenward.store.migrate import upgrade

__all__ = ["Server", "admin", "free_port", "serve", "temporary_database", "temporary_sqlite"]

ADMIN_URL = os.environ.get(
    "TOKENWARD_BENCH_POSTGRES_URL",
    os.environ.get("TOKENWARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)


async def admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    store = Store(url)
    try:
        await upgrade(store.engine)
    finally:
        await store.close()


@contextlib.contextmanager
def temporary_database() -> Iterator[str]:
    """A migrated database created for this run and dropped after; yields its SQLAlchemy URL."""
    name = f"tokenward_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin(ADMIN_URL, f'CREATE DATABASE "{name}"'))
    try:
        url = normalize_database_url(f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}")
        asyncio.run(_migrate(url))
        yield url
    finally:
        asyncio.run(admin(ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def temporary_sqlite() -> Iterator[str]:
    """A migrated SQLite file in a directory removed after the run; yields its SQLAlchemy URL."""
    with tempfile.TemporaryDirectory(prefix="tokenward-bench-") as directory:
        url = normalize_database_url(f"sqlite:///{directory}/tokenward.db")
        asyncio.run(_migrate(url))
        yield url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def metric(self, name: str) -> float:
        for line in httpx.get(f"{self.url}/metrics", timeout=10).text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return 0.0


def _ready(url: str, database_url: str) -> bool:
    if database_url.startswith("sqlite"):
        return httpx.get(f"{url}/healthz").status_code == 200
    # On PostgreSQL the caches are in use once the change listener is connected.
    return "tokenward_listener_connected 1.0" in httpx.get(f"{url}/metrics").text


@contextlib.contextmanager
def serve(factory: str, database_url: str, secret: str, **env: str) -> Iterator[Server]:
    """Run ``uvicorn <factory> --factory`` in its own process, as in production."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            # A pause on a busy machine must not let the server drop a connection just as the
            # load generator reuses it (uvicorn's default keeps idle ones for 5 s).
            "--timeout-keep-alive",
            "120",
        ],
        env={
            **os.environ,
            "TOKENWARD_DATABASE_URL": database_url,
            "TOKENWARD_SECRET_KEY": secret,
            **env,
        },
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 300  # a busy machine starts slowly; this only catches hangs
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{factory} did not start")
            with contextlib.suppress(httpx.TransportError):
                if _ready(server.url, database_url):
                    break
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
