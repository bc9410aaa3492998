"""Data for the benchmarks: an owner with a session and a personal token over HTTP, and the
large COPY-seeded population for the cold path."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import httpx

from tokenward import credentials
from tokenward.actions.accounts import create_user
from tokenward.store.engine import Store
from tokenward.store.notifications import asyncpg_dsn

__all__ = ["Owner", "Population", "owner_with_token", "seed_population"]

PASSWORD = "bench password, not secret"


@dataclass
class Owner:
    session: httpx.Client
    slug: str
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def _create_user(database_url: str, email: str) -> None:
    store = Store(database_url)
    try:
        async with store.session() as db:
            await create_user(db, email=email, password=PASSWORD, name="Bench owner")
    finally:
        await store.close()


def owner_with_token(
    database_url: str, server_url: str, scopes: tuple[str, ...] = ("org:read",)
) -> Owner:
    email = f"owner-{uuid.uuid4().hex[:8]}@bench.example"
    asyncio.run(_create_user(database_url, email))
    session = httpx.Client(base_url=server_url, timeout=30)
    login = session.post("/api/0/auth/login/", json={"email": email, "password": PASSWORD})
    if login.status_code != 200:
        raise RuntimeError(f"bench owner could not sign in: {login.status_code} {login.text}")
    session.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    session.post("/api/0/organizations/", json={"slug": slug, "name": "Bench"}).raise_for_status()
    minted = session.post("/api/0/users/me/tokens/", json={"name": "bench", "scopes": list(scopes)})
    minted.raise_for_status()
    return Owner(session, slug, minted.json()["token"])


@dataclass
class Population:
    tokens: int
    organizations: int
    samples: list[tuple[str, str]]  # (token, slug of an organization its user owns)


_EVERY = 50  # one token in this many is cut off somewhere, one authorized through SSO


def _digests(count: int) -> Iterator[str]:
    for _ in range(count):
        yield os.urandom(32).hex()


async def _copy(
    database_url: str, tokens: int, organizations: int, samples: int, base: int
) -> Population:
    now = dt.datetime.now(dt.UTC)
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        users = organizations  # user u owns organization u and is a member of u + 1
        await connection.copy_records_to_table(
            "users",
            columns=["id", "email", "name", "password_hash", "is_superuser", "created_at"],
            records=(
                (base + u, f"u{base + u}@bench.example", "", "-", False, now)
                for u in range(1, users + 1)
            ),
        )
        await connection.copy_records_to_table(
            "organizations",
            columns=["id", "slug", "name", "allow_personal_tokens", "created_at"],
            records=(
                (base + o, f"org-{base + o}", f"Org {o}", True, now)
                for o in range(1, organizations + 1)
            ),
        )
        await connection.copy_records_to_table(
            "memberships",
            columns=["id", "organization_id", "user_id", "role", "created_at"],
            records=(
                (base + 2 * u - 1 + k, base + (u - 1 + k) % organizations + 1, base + u, role, now)
                for u in range(1, users + 1)
                for k, role in ((0, "owner"), (1, "member"))
            ),
        )
        chosen = set(random.sample(range(tokens), min(samples, tokens)))
        minted: dict[int, credentials.MintedToken] = {
            index: credentials.mint(credentials.TokenKind.PERSONAL) for index in chosen
        }
        digests = _digests(tokens)
        await connection.copy_records_to_table(
            "personal_tokens",
            columns=[
                "id",
                "user_id",
                "name",
                "token_hash",
                "token_last_characters",
                "scopes",
                "created_at",
            ],
            records=(
                (
                    base + i + 1,
                    base + i % users + 1,
                    "t",
                    minted[i].digest if i in minted else next(digests),
                    "xxxx",
                    "org:read",
                    now,
                )
                for i in range(tokens)
            ),
        )
        # Some tokens cut off from the organization they are a member of, some authorized through
        # SSO in the one their user owns (the samples' own decisions stay allowed): the lookups'
        # joins read real indexes, not empty tables.
        await connection.copy_records_to_table(
            "personal_token_revocations",
            columns=["id", "organization_id", "token_id", "created_at"],
            records=(
                (base + i + 1, base + (i % users + 1) % organizations + 1, base + i + 1, now)
                for i in range(0, tokens, _EVERY)
            ),
        )
        await connection.copy_records_to_table(
            "sso_token_authorizations",
            columns=["id", "organization_id", "token_id", "membership_id", "authorized_at"],
            records=(
                (
                    base + i + 1,
                    base + i % organizations + 1,
                    base + i + 1,
                    base + 2 * (i % users) + 1,
                    now,
                )
                for i in range(_EVERY // 2, tokens, _EVERY)
            ),
        )
        # As a table in service: statistics, and hint bits and visibility map set (otherwise the
        # first read of each freshly copied page writes them, during the measurement).
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    sample_list = [
        (minted[i].secret, f"org-{base + i % organizations + 1}") for i in sorted(minted)
    ]
    random.shuffle(sample_list)
    return Population(tokens, organizations, sample_list)


def seed_population(
    database_url: str, tokens: int, organizations: int, samples: int, *, base: int = 0
) -> Population:
    """COPY a population in; ids start after ``base`` (rows made before keep theirs)."""
    return asyncio.run(_copy(database_url, tokens, organizations, samples, base))
