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
from bench.load import WRK, rate
from bench.peer import PeerServer, ensure_peer, peer_database, seed_peer, serve_peer
from bench.seed import Owner, owner_with_token

__all__ = ["PROJECTS", "end_to_end", "owner_with_projects"]

PROJECTS = 3
GOAL = 5.0


@contextlib.contextmanager
def _tokenward_database(backend: str) -> Iterator[str]:
    with temporary_sqlite() if backend == "sqlite" else temporary_database() as url:
        yield url


def owner_with_projects(database_url: str, server_url: str) -> Owner:
    """An owner, an organization with ``PROJECTS`` projects and a token that may read them."""
    owner = owner_with_token(database_url, server_url, ("org:read", "project:read"))
    for index in range(PROJECTS):
        owner.session.post(
            f"/api/0/organizations/{owner.slug}/projects/",
            json={"slug": f"p{index}", "name": f"Project {index}"},
        ).raise_for_status()
    owner.session.close()
    return owner


@contextlib.contextmanager
def _peer(backend: str, slug: str) -> Iterator[PeerServer]:
    """The Django + DRF peer serving the same organization's projects from its own database."""
    ensure_peer()
    with (
        tempfile.TemporaryDirectory(prefix="tokenward-peer-") as directory,
        peer_database(backend, ADMIN_URL, Path(directory)) as peer_env,
        serve_peer(peer_env, seed_peer(peer_env, slug, PROJECTS)) as peer,
    ):
        yield peer


def _rates(
    backend: str, secret: str, seconds: float, rounds: int, with_peer: bool
) -> tuple[float, float | None]:
    """Tokenward's best requests/s, and the peer's (None when it is not run)."""
    with _tokenward_database(backend) as url, serve(GATED, url, secret) as server:
        owner = owner_with_projects(url, server.url)
        path = f"/api/0/organizations/{owner.slug}/projects/"
        ours_url = server.url + path
        rate(ours_url, owner.bearer, seconds=1)  # warm caches and connections
        if not with_peer:
            return max(rate(ours_url, owner.bearer, seconds=seconds) for _ in range(rounds)), None
        with _peer(backend, owner.slug) as peer:
            theirs_url = peer.url + path
            rate(theirs_url, peer.authorization, seconds=1)
            ours = theirs = 0.0
            for _ in range(rounds):  # alternate, keep each side's best: noise hits both
                ours = max(ours, rate(ours_url, owner.bearer, seconds=seconds))
                theirs = max(theirs, rate(theirs_url, peer.authorization, seconds=seconds))
    return ours, theirs


def end_to_end(secret: str, *, seconds: float, rounds: int = 2, with_peer: bool = True) -> Figure:
    """Without the peer (its virtualenv is built from the network), Tokenward's side alone."""
    rows: list[tuple[str, str]] = []
    ratios: list[str] = []
    for backend in ("sqlite", "postgresql"):
        ours, theirs = _rates(backend, secret + uuid.uuid4().hex[:4], seconds, rounds, with_peer)
        rows.append((f"{backend}: Tokenward requests/s (uvicorn, 1 process)", f"{ours:.0f}"))
        if theirs is None:
            continue
        ratio = ours / theirs
        rows += [
            (f"{backend}: Django + DRF requests/s (gunicorn, 1 sync worker)", f"{theirs:.0f}"),
            (f"{backend}: ratio", f"{ratio:.2f}x"),
        ]
        ratios.append(f"{backend} {ratio:.2f}x")
    rows.append(("endpoint", f"GET /api/0/organizations/{{org}}/projects/ ({PROJECTS} projects)"))
    rows.append(("load", "wrk, 1 thread, 16 connections" if WRK else "Python client (no wrk)"))
    compared = ", ".join(ratios) if with_peer else "not measured against"
    return Figure("end-to-end", f"{compared} Django + DRF (goal >= {GOAL:g}x on each)", rows)
