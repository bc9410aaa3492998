"""A leak report made to one server process stops the tokens on another at once (PostgreSQL):
the revocation is announced like any other, never left to the cache's TTL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from functools import partial

import pytest

from tests.leaks.conftest import leak, send_report
from tests.leaks.keyring import ScannerKeyring
from tests.support import ApiClient, World, eventually, running_server


@pytest.fixture
def two_processes(
    database_urls: dict[str, str], keyring: ScannerKeyring
) -> Iterator[tuple[World, World]]:
    if "postgresql" not in database_urls:
        pytest.fail("this test needs the PostgreSQL backend (TOKENWARD_TEST_BACKENDS)")
    url, secret = database_urls["postgresql"], uuid.uuid4().hex
    # A TTL far beyond the test: only the change notification can make the other process forget.
    settings = {"secret_key": secret, "cache_ttl_seconds": 600.0}
    with (
        running_server(url, secret_scanning_keys=str(keyring.path), **settings) as a,
        running_server(url, **settings) as b,
    ):
        worlds = (World(a), World(b))
        yield worlds
        for world in worlds:
            world.close()


def _refused(client: ApiClient, path: str) -> bool:
    return client.get(path).status_code == 401


@pytest.mark.postgres
def test_a_report_to_one_process_revokes_on_the_other(
    two_processes: tuple[World, World], keyring: ScannerKeyring
) -> None:
    reporting, serving = two_processes
    owner = serving.session()
    slug = serving.organization(owner)
    member = serving.member(owner, slug)
    personal = serving.personal_token(member.session, ["org:read"])
    automation = [serving.organization_token(owner, slug, ["org:read"]) for _ in range(2)]
    clients = [serving.bearer(secret) for secret in (personal, *automation)]
    for client in clients:  # warm the serving process's caches
        for _ in range(2):
            assert client.get(f"/api/0/organizations/{slug}/").status_code == 200

    answered = send_report(reporting.anonymous(), keyring, *map(leak, (personal, *automation)))
    assert answered.status_code == 200, answered.text
    assert {item["label"] for item in answered.json()} == {"true_positive"}
    for client in clients:
        assert eventually(partial(_refused, client, f"/api/0/organizations/{slug}/"))
