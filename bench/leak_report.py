"""Figure 5: a secret scanner's batch of leaked tokens, answered well within a partner's timeout.

A batch of live tokens (personal tokens that acted on organizations, and organization tokens, so
every revoke also queues emails and audit entries) is reported to a real server process; the
figure is its answer time, against a one-item report measured in the same run. The same batch is
then sent again: everything is already revoked, so it shows the lookup alone.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import insert

from bench.environment import serve
from bench.figures import GATED, Figure
from tokenward import credentials
from tokenward.store.engine import Store
from tokenward.store.tables import (
    Membership,
    Organization,
    OrganizationToken,
    PersonalToken,
    User,
)
from tokenward.store.usage import PERSONAL, TokenUsage

__all__ = ["leak_report"]

PATH = "/api/0/secret-scanning/github/"
GOAL_SECONDS = 10.0  # GitHub gives a partner endpoint about this long before it gives up
_USERS_PER_ORGANIZATION = 10


async def _seed(database_url: str, personal: int, organization: int) -> list[str]:
    """Live tokens to report; personal ones acted on their user's organization today."""
    run = uuid.uuid4().hex[:8]
    organizations = max(1, (personal + organization) // 100)
    users = max(1, personal // 4)
    now = dt.datetime.now(dt.UTC)
    store = Store(database_url)
    secrets: list[str] = []
    try:
        async with store.session() as db:
            org_ids = list(
                await db.scalars(
                    insert(Organization).returning(Organization.id),
                    [
                        {"slug": f"leak-{run}-{n}", "name": f"Leak {n}", "created_at": now}
                        for n in range(organizations)
                    ],
                )
            )
            user_ids = list(
                await db.scalars(
                    insert(User).returning(User.id),
                    [
                        {
                            "email": f"leak-{run}-{n}@bench.example",
                            "password_hash": "-",
                            "name": "",
                            "created_at": now,
                        }
                        for n in range(users)
                    ],
                )
            )
            home = {user: org_ids[n % organizations] for n, user in enumerate(user_ids)}
            await db.execute(
                insert(Membership),
                [
                    {
                        "organization_id": org,
                        "user_id": user,
                        "role": "owner" if n < organizations else "member",
                        "created_at": now,
                    }
                    for n, (user, org) in enumerate(home.items())
                ],
            )
            personal_rows, organization_rows = [], []
            for n in range(personal):
                minted = credentials.mint(credentials.TokenKind.PERSONAL)
                secrets.append(minted.secret)
                personal_rows.append(_token_row(minted, now) | {"user_id": user_ids[n % users]})
            for n in range(organization):
                minted = credentials.mint(credentials.TokenKind.ORGANIZATION)
                secrets.append(minted.secret)
                organization_rows.append(
                    _token_row(minted, now) | {"organization_id": org_ids[n % organizations]}
                )
            token_ids = (
                list(
                    await db.scalars(
                        insert(PersonalToken).returning(
                            PersonalToken.id, sort_by_parameter_order=True
                        ),
                        personal_rows,
                    )
                )
                if personal_rows
                else []
            )
            if organization_rows:
                await db.execute(insert(OrganizationToken), organization_rows)
            if token_ids:
                await db.execute(
                    insert(TokenUsage),
                    [
                        {
                            "token_kind": PERSONAL,
                            "token_id": token_id,
                            "organization_id": home[personal_rows[n]["user_id"]],
                            "day": now.date(),
                            "allowed": 3,
                            "denied": 0,
                            "would_be_denied": 0,
                        }
                        for n, token_id in enumerate(token_ids)
                    ],
                )
            await db.commit()
    finally:
        await store.close()
    return secrets


def _token_row(minted: credentials.MintedToken, now: dt.datetime) -> dict[str, Any]:
    return {
        "name": "bench",
        "token_hash": minted.digest,
        "token_last_characters": minted.last_characters,
        "scopes": "org:read",
        "created_at": now,
    }


class _Scanner:
    def __init__(self, directory: Path) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.path = directory / "scanner-keys.json"
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        entry = {"key_identifier": "bench", "key": pem.decode(), "is_current": True}
        self.path.write_text(json.dumps({"public_keys": [entry]}))

    def post(self, client: httpx.Client, secrets: list[str]) -> tuple[float, list[Any]]:
        body = json.dumps(
            [
                {"token": s, "type": "tokenward", "url": "https://example.com/x", "source": "bench"}
                for s in secrets
            ]
        ).encode()
        signature = base64.b64encode(self.key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()
        headers = {
            "Github-Public-Key-Identifier": "bench",
            "Github-Public-Key-Signature": signature,
            "Content-Type": "application/json",
        }
        started = time.perf_counter()
        response = client.post(PATH, content=body, headers=headers)
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        return elapsed, response.json()


def leak_report(database_url: str, secret: str, *, items: int, singles: int = 5) -> Figure:
    personal = items * 4 // 5
    batch = asyncio.run(_seed(database_url, personal, items - personal))
    alone = asyncio.run(_seed(database_url, singles, 0))
    with tempfile.TemporaryDirectory(prefix="tokenward-bench-") as directory:
        scanner = _Scanner(Path(directory))
        env = {"TOKENWARD_SECRET_SCANNING_KEYS": str(scanner.path)}
        with (
            serve(GATED, database_url, secret, **env) as server,
            httpx.Client(base_url=server.url, timeout=GOAL_SECONDS * 6) as client,
        ):
            scanner.post(client, ["warm-up"])
            one = statistics.median(scanner.post(client, [s])[0] for s in alone)
            full, answer = scanner.post(client, batch)
            repeat, _ = scanner.post(client, batch)
    found = sum(item["label"] == "true_positive" for item in answer)
    if found != items:
        raise RuntimeError(f"only {found} of {items} reported tokens were found live")
    per_item = full / items
    return Figure(
        "leak-report",
        f"{items} leaked tokens revoked and answered in {full:.2f} s "
        f"(goal <= {GOAL_SECONDS:.0f} s), {per_item / one:.3f}x a one-item report per item",
        [
            (f"{items}-item report, all live (revoke, audit, emails)", f"{full * 1000:.0f} ms"),
            ("same report again (all already revoked)", f"{repeat * 1000:.0f} ms"),
            ("one-item report (median)", f"{one * 1000:.1f} ms"),
            ("per item in the batch", f"{per_item * 1000:.2f} ms"),
        ],
    )
