"""The Django + DRF peer: its own virtualenv under ``.bench/``, its data, and gunicorn with one
sync worker (the production WSGI server a Django team deploys)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.environment import free_port

__all__ = ["PeerServer", "ensure_peer", "peer_database", "serve_peer"]

ROOT = Path(__file__).resolve().parent.parent
PEER_SOURCE = ROOT / "bench"
REQUIREMENTS = ROOT / "bench" / "django_peer" / "requirements.txt"
VENV = ROOT / ".bench" / "django"


def _python() -> Path:
    return VENV / "bin" / "python"


def ensure_peer() -> Path:
    """Build (once per requirements file) the peer's virtualenv; returns its python."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = VENV / ".requirements"
    if stamp.exists() and stamp.read_text() == wanted:
        return _python()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run(
        [str(_python()), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
        check=True,
        timeout=600,
    )
    stamp.write_text(wanted)
    return _python()


@dataclass
class PeerServer:
    url: str
    token: str

    @property
    def authorization(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


def _environment(database: dict[str, str]) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PEER_")},
        "PYTHONPATH": str(PEER_SOURCE),
        "DJANGO_SETTINGS_MODULE": "django_peer.settings",
        **database,
    }


@contextlib.contextmanager
def peer_database(backend: str, admin_url: str, directory: Path) -> Iterator[dict[str, str]]:
    """The peer's environment variables for a fresh database on ``backend``."""
    if backend == "sqlite":
        yield {"PEER_SQLITE_PATH": str(directory / f"peer-{uuid.uuid4().hex[:8]}.sqlite3")}
        return
    import asyncio

    from bench.environment import admin

    name = f"tokenward_peer_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield {"PEER_POSTGRES_NAME": name}
    finally:
        asyncio.run(admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def seed_peer(database: dict[str, str], slug: str, projects: int) -> str:
    """Migrate the peer's database and create the same data; returns the owner's DRF token."""
    done = subprocess.run(
        [str(_python()), "-m", "django_peer.seed", slug, str(projects)],
        env=_environment(database),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def serve_peer(database: dict[str, str], token: str) -> Iterator[PeerServer]:
    port = free_port()
    gunicorn = VENV / "bin" / "gunicorn"
    process = subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            "1",
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "django_peer.wsgi:application",
        ],
        env=_environment(database),
    )
    server = PeerServer(f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + 300  # a busy machine starts slowly; this only catches hangs
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Django peer did not start")
            with contextlib.suppress(httpx.TransportError):
                httpx.get(server.url + "/", timeout=5)
                break
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
