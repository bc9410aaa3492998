"""Throughput as the store grows (1 token, then 100,000) and the memory the caches take."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from bench.end_to_end import owner_with_projects
from bench.environment import serve, temporary_database
from bench.figures import GATED, Figure
from bench.load import rate
from bench.seed import Owner, seed_population

__all__ = ["principal_memory", "token_scale"]


def token_scale(secret: str, *, tokens: int, seconds: float, rounds: int) -> Figure:
    """One worker, the project list read with a token, over a store holding that one token and
    over a store holding ``tokens`` more (and their users, organizations and memberships)."""
    best = {"small": 0.0, "large": 0.0}
    with (
        temporary_database() as small,
        temporary_database() as large,
        serve(GATED, small, secret) as small_server,
        serve(GATED, large, secret) as large_server,
    ):
        targets: dict[str, tuple[str, Owner]] = {}
        for name, url, server in (("small", small, small_server), ("large", large, large_server)):
            owner = owner_with_projects(url, server.url)
            targets[name] = (f"{server.url}/api/0/organizations/{owner.slug}/projects/", owner)
        seed_population(large, tokens, max(1, tokens // 10), samples=1, base=1000)
        for target, owner in targets.values():
            rate(target, owner.bearer, seconds=1)  # warm caches and connections
        for _ in range(rounds):  # alternate, keep each side's best
            for name, (target, owner) in targets.items():
                best[name] = max(best[name], rate(target, owner.bearer, seconds=seconds))
    ratio = best["large"] / best["small"]
    return Figure(
        "token-scale",
        f"{ratio:.2f}x the 1-token throughput with {tokens:,} tokens (goal: flat, >= 0.9x)",
        [
            ("requests/s per worker, 1 token in the store", f"{best['small']:.0f}"),
            (f"requests/s per worker, {tokens:,} tokens in the store", f"{best['large']:.0f}"),
            ("ratio", f"{ratio:.2f}"),
        ],
    )


def _resident_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def _fill(principals: int, max_entries: int) -> dict[str, int]:
    """In a fresh process: the application as served, then ``principals`` authentications'
    worth of cache entries, shaped as the authenticator makes them."""
    import datetime as dt
    import hashlib
    import tempfile

    from tokenward.app import create_app
    from tokenward.auth.caches import CachedPrincipal
    from tokenward.auth.changes import ChangeKind
    from tokenward.auth.principal import Principal, UserIdentity
    from tokenward.config import Settings
    from tokenward.policy import Credential, CredentialKind

    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{directory}/memory.db",
            secret_key="memory-figure-" + "x" * 32,
            cache_max_entries=max_entries,
        )
        app = create_app(settings)
        caches = app.state.caches
        caches.usable = True
        gc.collect()
        before = _resident_bytes()
        now = dt.datetime.now(dt.UTC)
        measured: dict[str, int] = {"before": before}
        for index in range(2 * principals):
            if index == principals:
                gc.collect()
                measured |= {"after": _resident_bytes(), "kept": caches.sizes()["principal"]}
            digest = hashlib.sha256(index.to_bytes(8, "big")).hexdigest()
            principal = Principal(
                Credential(
                    CredentialKind.PERSONAL_TOKEN,
                    frozenset(["org:read", "project:read"]),
                    token_id=str(index),
                    created_at=now,
                    two_factor=False,
                ),
                user=UserIdentity(index, f"user{index}@example.com", f"User {index}", False),
                token_id=index,
                token_name=f"deploy {index}",
                token_last_characters=digest[-4:],
            )
            entry = CachedPrincipal(principal, None, (ChangeKind.PERSONAL_TOKEN, index))
            caches.remember_principal(caches.generation, "token:" + digest, entry)
        gc.collect()
        return measured | {
            "after_twice": _resident_bytes(),
            "kept_twice": caches.sizes()["principal"],
        }


def principal_memory(principals: int, max_entries: int) -> Figure:
    """Resident size of one process before and after ``principals`` cached principals; then
    twice as many authentications, to show the bound holds."""
    code = (
        "import json, sys; from bench.scale import _fill; "
        "print(json.dumps(_fill(*map(int, sys.argv[1:]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(principals), str(max_entries)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    run = json.loads(done.stdout.strip().splitlines()[-1])
    mib = 1024 * 1024
    per_entry = (run["after"] - run["before"]) / max(1, run["kept"])
    return Figure(
        "memory",
        f"{run['after'] / mib:.0f} MiB resident with {run['kept']:,} cached principals "
        f"({per_entry:.0f} B each); {2 * principals:,} authentications keep "
        f"{run['kept_twice']:,} (goal: bounded by TOKENWARD_CACHE_MAX_ENTRIES={max_entries:,})",
        [
            ("resident, application built, caches empty", f"{run['before'] / mib:.0f} MiB"),
            (f"resident, {run['kept']:,} cached principals", f"{run['after'] / mib:.0f} MiB"),
            ("per cached principal", f"{per_entry:.0f} bytes"),
            (f"after {2 * principals:,} authentications: kept", f"{run['kept_twice']:,}"),
            (
                f"after {2 * principals:,} authentications: resident",
                f"{run['after_twice'] / mib:.0f} MiB",
            ),
        ],
    )
