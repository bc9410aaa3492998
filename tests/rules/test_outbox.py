"""Sending never blocks or fails the request that caused it: with no SMTP server to take it, the
notice waits in the outbox and is retried later."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.rules.conftest import eventually
from tests.support import World, free_port, run_async, running_server
from tokenward.store.engine import Store
from tokenward.store.tables import OutgoingEmail


@pytest.fixture
def unreachable_smtp(database_urls: dict[str, str]) -> Iterator[World]:
    with running_server(
        database_urls["sqlite"],
        smtp_url=f"smtp://127.0.0.1:{free_port()}",  # nothing listens there
        usage_flush_seconds=0.1,
        outbox_interval_seconds=0.1,
    ) as server:
        world = World(server)
        yield world
        world.close()


async def _emails_to(database_url: str, recipient: str) -> list[tuple[int, str | None, bool]]:
    store = Store(database_url)
    try:
        async with store.session() as db:
            rows = await db.scalars(
                select(OutgoingEmail).where(OutgoingEmail.recipient == recipient)
            )
            return [(m.attempts, m.last_error, m.sent_at is not None) for m in rows]
    finally:
        await store.close()


def test_an_unreachable_mail_server_delays_notices_but_never_the_request(
    unreachable_smtp: World,
) -> None:
    world = unreachable_smtp
    owner = world.session()
    slug = world.organization(owner)
    member = world.member(owner, slug)
    secret = world.personal_token(member.session, ["org:read"])
    assert world.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200
    usage = f"/api/0/organizations/{slug}/personal-token-usage/"
    assert eventually(lambda: len(owner.get(usage).json()["tokens"]) == 1)

    started = time.monotonic()
    flipped = owner.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}}
    )
    assert flipped.status_code == 200
    assert time.monotonic() - started < 5

    database_url = world.server.settings.database_url

    def tried_and_kept() -> bool:
        emails = run_async(_emails_to(database_url, member.account.email))
        return len(emails) == 1 and emails[0][0] >= 1 and not emails[0][2]

    assert eventually(tried_and_kept)
    _, error, sent = run_async(_emails_to(database_url, member.account.email))[0]
    assert error and "Error" in error and not sent
