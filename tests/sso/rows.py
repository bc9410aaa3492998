"""Rows written straight to the store, for tests that walk every route and need an SSO
configuration or an authorization to exist without walking the sign-in each time."""

from __future__ import annotations

import atexit
import contextlib
from typing import Any

from sqlalchemy import select

from tests.leakwatch import WATCH
from tests.sso.provider import IdentityProvider, identity_provider
from tests.support import run_async
from tokenward.store.engine import Store
from tokenward.store.tables import (
    Membership,
    Organization,
    SsoConfiguration,
    SsoTokenAuthorization,
    utcnow,
)

__all__ = [
    "WALK_SECRET",
    "an_authorization",
    "close_shared_provider",
    "ensure_configuration",
    "shared_provider",
]

WALK_SECRET = "a-client-secret-for-the-walk"
WATCH.secret(WALK_SECRET, "an SSO client secret")

_SHARED: list[IdentityProvider] = []
_STOP = contextlib.ExitStack()


def shared_provider() -> IdentityProvider:
    """One identity provider for the whole run, started on first use and stopped by
    ``close_shared_provider`` when the session finishes."""
    if not _SHARED:
        _SHARED.append(_STOP.enter_context(identity_provider()))
        # Also at exit for a process that never says so: its thread is a daemon, so Python
        # reaches atexit handlers while the server can still acknowledge its shutdown.
        atexit.register(close_shared_provider)
    return _SHARED[0]


def close_shared_provider() -> None:
    _SHARED.clear()
    _STOP.close()


async def _with_store(database_url: str, work: Any) -> Any:
    store = Store(database_url)
    try:
        async with store.session() as db:
            result = await work(db)
            await db.commit()
            return result
    finally:
        await store.close()


def ensure_configuration(database_url: str, slug: str) -> None:
    async def work(db: Any) -> None:
        organization = await db.scalar(select(Organization).where(Organization.slug == slug))
        found = await db.scalar(
            select(SsoConfiguration.id).where(SsoConfiguration.organization_id == organization.id)
        )
        if found is None:
            now = utcnow()
            db.add(
                SsoConfiguration(
                    organization_id=organization.id,
                    issuer=shared_provider().issuer,
                    client_id="tokenward",
                    client_secret=WALK_SECRET,
                    allowed_domains="",
                    auto_provision=False,
                    created_at=now,
                    updated_at=now,
                )
            )

    run_async(_with_store(database_url, work))


def an_authorization(database_url: str, slug: str, token_id: str, user_id: str) -> str:
    """Authorize the member's personal token for ``slug``; the authorization's id."""

    async def work(db: Any) -> str:
        organization = await db.scalar(select(Organization).where(Organization.slug == slug))
        membership = await db.scalar(
            select(Membership).where(
                Membership.organization_id == organization.id,
                Membership.user_id == int(user_id),
            )
        )
        row = SsoTokenAuthorization(
            organization_id=organization.id,
            token_id=int(token_id),
            membership_id=membership.id,
            authorized_at=utcnow(),
        )
        db.add(row)
        await db.flush()
        return str(row.id)

    return str(run_async(_with_store(database_url, work)))
