"""End to end against Django + DRF: the same organization-scoped list of projects, read with a
token, one server process each, on SQLite and on PostgreSQL with the same data."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from bench.environment import ADMIN_URL, serve, temporary_database, temporary_sqlite
from bench.figures import GATED, Figure
from bench.load import rate
from bench.peer import ensure_peer, peer_database, seed_peer, serve_peer
from bench.seed import owner_with_token

__all__ = ["PROJECTS", "end_to_end"]

PROJECTS = 3
GOAL = 5.0


@contextlib.contextmanager
def _tokenward_database(backend: str) -> Iterator[str]:
    with temporary_sqlite() if backend == "sqlite" else temporary_database() as url:
        yield url


def _best_of_both(backend: str, secret: str, seconds: float, rounds: int) -> tuple[float, float]:
    ensure_peer()
    with (
        _tokenward_database(backend) as url,
        tempfile.TemporaryDirectory(prefix="tokenward-peer-") as directory,
        peer_database(backend, ADMIN_URL, Path(directory)) as peer_env,
    ):
        with serve(GATED, url, secret) as server:
            owner = owner_with_token(url, server.url, ("org:read", "project:read"))
            for index in range(PROJECTS):
                owner.session.post(
                    f"/api/0/organizations/{owner.slug}/projects/",
                    json={"slug": f"p{index}", "name": f"Project {index}"},
                ).raise_for_status()
            owner.session.close()
        peer_token = seed_peer(peer_env, owner.slug, PROJECTS)
        path = f"/api/0/organizations/{owner.slug}/projects/"
        ours = theirs = 0.0
        for _ in range(rounds):  # alternate, keep each side's best: the machine's noise hits both
            with serve(GATED, url, secret) as server:
                rate(server.url + path, owner.bearer, seconds=1)  # warm caches and connections
                ours = max(ours, rate(server.url + path, owner.bearer, seconds=seconds))
            with serve_peer(peer_env, peer_token) as peer:
                rate(peer.url + path, peer.authorization, seconds=1)
                theirs = max(theirs, rate(peer.url + path, peer.authorization, seconds=seconds))
    return ours, theirs


def end_to_end(secret: str, *, seconds: float, rounds: int = 2) -> Figure:
    rows: list[tuple[str, str]] = []
    ratios: list[str] = []
    worst = float("inf")
    for backend in ("sqlite", "postgresql"):
        ours, theirs = _best_of_both(backend, secret + uuid.uuid4().hex[:4], seconds, rounds)
        ratio = ours / theirs
        worst = min(worst, ratio)
        rows += [
            (f"{backend}: Tokenward requests/s (uvicorn, 1 process)", f"{ours:.0f}"),
            (f"{backend}: Django + DRF requests/s (gunicorn, 1 sync worker)", f"{theirs:.0f}"),
            (f"{backend}: ratio", f"{ratio:.2f}x"),
        ]
        ratios.append(f"{backend} {ratio:.2f}x")
    rows.append(("endpoint", f"GET /api/0/organizations/{{org}}/projects/ ({PROJECTS} projects)"))
    return Figure(
        "end-to-end",
        f"{', '.join(ratios)} Django + DRF (goal >= {GOAL:g}x on each)",
        rows,
    )
