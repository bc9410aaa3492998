"""Invitations for SSO tests, on a server that keeps its email in the outbox: the link's key is
derived, as the sender would, from the sealed seed the queued email holds."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from tests.leakwatch import WATCH
from tests.support import ApiClient, World, run_async, unique
from tokenward.notices.sealed_links import derive_key
from tokenward.store.engine import Store
from tokenward.store.tables import OutgoingEmail

__all__ = ["in_store", "invitation_keys", "invite"]

_SEED = re.compile(r"/accept-invite/\{\{sealed:([A-Za-z0-9_-]+)\}\}/")


def in_store(world: World, work: Any) -> Any:
    """``await work(db)`` on the world's database, from a test."""

    async def run() -> Any:
        store = Store(world.server.settings.database_url)
        try:
            async with store.session() as db:
                return await work(db)
        finally:
            await store.close()

    return run_async(run())


def invitation_keys(world: World, email: str) -> set[str]:
    """The keys of every invitation link emailed to ``email``, watched for leaks from now on."""

    async def bodies(db: Any) -> list[str]:
        query = select(OutgoingEmail.body).where(OutgoingEmail.recipient == email)
        return list((await db.scalars(query)).all())

    keys = set()
    for body in in_store(world, bodies):
        seed = _SEED.search(body)
        assert seed is not None, body
        key = derive_key(world.server.settings.secret_key, seed.group(1))
        WATCH.secret(key, "an invitation key")
        keys.add(key)
    return keys


def invite(world: World, owner: ApiClient, slug: str, role: str = "member") -> tuple[str, str]:
    """Invite a new email to ``slug``: the email and its link's key."""
    email = f"{unique('invitee')}@example.com"
    response = owner.post(
        f"/api/0/organizations/{slug}/members/", json={"email": email, "role": role}
    )
    assert response.status_code == 201, response.text
    (key,) = invitation_keys(world, email)
    return email, key
