"""A server that sends email to a local SMTP server, on each backend, for invitations and SCIM."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS
from tests.mailbox import Mailbox
from tests.support import LiveServer, World, running_server

LINK_BASE = "http://tokenward.test"
_ACCEPT_LINK = re.compile(re.escape(LINK_BASE) + r"(/accept-invite/([A-Za-z0-9_-]+)/)")


@pytest.fixture(scope="session")
def people_mailbox(mailbox: Mailbox) -> Mailbox:
    """The run's one mailbox (see tests/conftest.py): the outbox table is shared."""
    return mailbox


@pytest.fixture(scope="session", params=BACKENDS)
def people_server(
    request: pytest.FixtureRequest, database_urls: dict[str, str], people_mailbox: Mailbox
) -> Iterator[LiveServer]:
    with running_server(
        database_urls[request.param],
        smtp_url=people_mailbox.url,
        base_url=LINK_BASE,
        outbox_interval_seconds=0.2,
    ) as server:
        yield server


@pytest.fixture
def people(people_server: LiveServer) -> Iterator[World]:
    world = World(people_server)
    yield world
    world.close()


def accept_links(mailbox: Mailbox, email: str, count: int = 1) -> list[str]:
    """The accept-invite paths emailed to ``email`` (waiting for ``count`` emails), oldest first."""
    received = mailbox.wait_for(email, count, seconds=15)
    assert len(received) >= count, f"expected {count} invitation emails to {email}"
    paths = []
    for message in received:
        found = _ACCEPT_LINK.search(message.body)
        assert found is not None, message.body
        paths.append(found.group(1))
    return paths
