"""A server with notices switched on: a real local SMTP server, fast usage and outbox passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.mailbox import Mailbox
from tests.support import ON_POSTGRES, LiveServer, World, run_async, running_server
from tokenward.store.engine import Store
from tokenward.store.tables import OutgoingEmail


@pytest.fixture(scope="session", params=["sqlite", ON_POSTGRES])
def rules_server(
    request: pytest.FixtureRequest, database_urls: dict[str, str], mailbox: Mailbox
) -> Iterator[LiveServer]:
    if request.param not in database_urls:
        pytest.fail(f"the {request.param} backend is needed (TOKENWARD_TEST_BACKENDS)")
    with running_server(
        database_urls[request.param],
        smtp_url=mailbox.url,
        base_url="http://tokenward.test",
        usage_flush_seconds=0.1,
        outbox_interval_seconds=0.1,
    ) as server:
        yield server


@pytest.fixture
def rules(rules_server: LiveServer) -> Iterator[World]:
    world = World(rules_server)
    yield world
    world.close()


def queued_to(world: World, recipient: str) -> list[str]:
    """The subjects of every notice ever queued to ``recipient``, sent or not. Notices are queued
    in the transaction of the change that owes them, so this is settled when the change returns."""

    async def subjects() -> list[str]:
        store = Store(world.server.settings.database_url)
        try:
            async with store.session() as db:
                query = select(OutgoingEmail.subject).where(OutgoingEmail.recipient == recipient)
                return list((await db.scalars(query.order_by(OutgoingEmail.id))).all())
        finally:
            await store.close()

    result: list[str] = run_async(subjects())
    return result
