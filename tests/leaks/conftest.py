"""Leak reports: a key file of scanner keys generated in the test run, a server per backend that
trusts it, and a real SMTP server for the notices."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import BACKENDS
from tests.leaks.keyring import SCANNER_PATH, ScannerKeyring
from tests.mailbox import Mailbox
from tests.support import ApiClient, LiveServer, World, running_server


def report_body(*items: dict[str, Any]) -> bytes:
    return json.dumps(list(items)).encode()


def leak(token: str, url: str = "https://github.com/acme/app/blob/abc/.env") -> dict[str, str]:
    return {"token": token, "type": "tokenward_token", "url": url, "source": "content"}


def send_report(client: ApiClient, keyring: ScannerKeyring, *items: dict[str, Any]) -> Any:
    body = report_body(*items)
    return client.post(SCANNER_PATH, content=body, headers=keyring.headers(body))


@pytest.fixture(scope="session")
def leak_mailbox(mailbox: Mailbox) -> Mailbox:
    """The run's one mailbox (see tests/conftest.py): the outbox table is shared."""
    return mailbox


@pytest.fixture(scope="session")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> ScannerKeyring:
    ring = ScannerKeyring(tmp_path_factory.mktemp("scanner-keys") / "keys.json")
    ring.add("key-1")
    return ring


@pytest.fixture(scope="session", params=BACKENDS)
def scanning_server(
    request: pytest.FixtureRequest,
    database_urls: dict[str, str],
    leak_mailbox: Mailbox,
    keyring: ScannerKeyring,
) -> Iterator[LiveServer]:
    with running_server(
        database_urls[request.param],
        smtp_url=leak_mailbox.url,
        base_url="http://tokenward.test",
        usage_flush_seconds=0.1,
        outbox_interval_seconds=0.1,
        secret_scanning_keys=str(keyring.path),
    ) as server:
        yield server


@pytest.fixture
def scanning(scanning_server: LiveServer) -> Iterator[World]:
    world = World(scanning_server)
    yield world
    world.close()


def used_in(owner: ApiClient, slug: str) -> Callable[[], bool]:
    """Whether the organization's usage counts have seen a personal token act there."""

    def check() -> bool:
        report = owner.get(f"/api/0/organizations/{slug}/personal-token-usage/").json()
        return bool(report["tokens"]) and report["totals"]["requests"]["allowed"] > 0

    return check
