"""``/healthz`` answers from what the process knows: it asks the store at most once a second,
and still answers 503 while the store is down."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support import LiveServer, World, assert_error, eventually, running_server
from tests.tcp_proxy import TcpProxy

PROBES = 60


def test_probes_ask_the_store_at_most_once_a_second(world: World, server: LiveServer) -> None:
    health = server.app.state.health
    anonymous = world.anonymous()
    assert anonymous.get("/healthz").status_code == 200
    before = health.checks
    started = time.monotonic()
    for _ in range(PROBES):
        response = anonymous.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert response.headers["cache-control"] == "no-store"
    elapsed = time.monotonic() - started
    # One check per started second at most (plus the one in progress), never one per probe.
    assert health.checks - before <= elapsed + 2, (health.checks - before, elapsed)


@pytest.fixture
def proxied_server(database_urls: dict[str, str]) -> Iterator[tuple[LiveServer, TcpProxy]]:
    if "postgresql" not in database_urls:
        pytest.fail("this test needs the PostgreSQL backend (TOKENWARD_TEST_BACKENDS)")
    url = database_urls["postgresql"]
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    proxied_url = url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
    assert proxied_url != url
    with running_server(proxied_url) as server:
        yield server, proxy
        proxy.cut()


@pytest.mark.postgres
def test_a_store_outage_turns_the_probe_to_503_and_back(
    proxied_server: tuple[LiveServer, TcpProxy],
) -> None:
    server, proxy = proxied_server
    world = World(server)
    anonymous = world.anonymous()
    assert anonymous.get("/healthz").status_code == 200

    proxy.cut()  # nothing else asks the store: the probe itself must notice
    assert eventually(lambda: anonymous.get("/healthz").status_code == 503)
    for _ in range(5):  # and keeps saying so, never an "ok" remembered from before
        assert_error(anonymous.get("/healthz"), 503, "unavailable")

    proxy.restore()
    assert eventually(lambda: anonymous.get("/healthz").status_code == 200)
    world.close()
