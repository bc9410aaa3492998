"""Two Tokenward processes over one PostgreSQL: an owner's change made through one is obeyed by
a proxy that asks the other."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fastpath.conftest import start_server
from tests.gateway.conftest import through, write_routes
from tests.gateway.proxies import PROXY_PARAMS, Proxy, running_proxy
from tests.gateway.upstream import Upstream
from tests.support import ON_POSTGRES, LiveServer, World, _migrate, run_async

HANG = 15.0  # seconds: only to stop a hang, never a speed claim


@pytest.fixture(scope="module", params=[ON_POSTGRES])
def two_processes(
    database_urls: dict[str, str], upstream: Upstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    if "postgresql" not in database_urls:
        pytest.fail("several processes need the PostgreSQL backend (TOKENWARD_TEST_BACKENDS)")
    url = database_urls["postgresql"]
    run_async(_migrate(url))
    routes = write_routes(tmp_path_factory.mktemp("routes"), upstream)
    secret = "gateway-" + uuid.uuid4().hex
    first = start_server(url, secret, gateway_routes=routes)
    second = start_server(url, secret, gateway_routes=routes)
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture(scope="module", params=PROXY_PARAMS)
def proxy_to_second(
    request: pytest.FixtureRequest,
    two_processes: tuple[LiveServer, LiveServer],
    upstream: Upstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Proxy]:
    directory: Path = tmp_path_factory.mktemp(f"{request.param}-second")
    tokenward = f"127.0.0.1:{two_processes[1].port}"
    with running_proxy(request.param, directory, tokenward, upstream.address) as running:
        yield running


def test_a_flip_on_one_process_is_obeyed_through_a_proxy_asking_another(
    two_processes: tuple[LiveServer, LiveServer], proxy_to_second: Proxy, upstream: Upstream
) -> None:
    world = World(two_processes[0])
    try:
        owner = world.session("Owner")
        slug = world.organization(owner)
        member = world.member(owner, slug)
        issue_id = f"issue-{uuid.uuid4().hex[:10]}"
        upstream.issues[issue_id] = slug
        personal = through(
            world, proxy_to_second, world.bearer(world.personal_token(member.session))
        )
        for _ in range(3):  # the second process now holds the organization in its caches
            assert personal.get(f"/orgs/{slug}/issues").status_code == 200
            assert personal.get(f"/issues/{issue_id}").status_code == 200

        flipped = owner.put(
            f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}}
        )
        assert flipped.status_code == 200, flipped.text

        deadline = time.monotonic() + HANG
        while personal.get(f"/orgs/{slug}/issues").status_code == 200:
            assert time.monotonic() < deadline, "the other process kept allowing the token"
            time.sleep(0.02)
        for path in (f"/orgs/{slug}/issues", f"/issues/{issue_id}"):
            response = personal.get(path)
            assert response.status_code == 403, response.text
            assert response.headers["tokenward-error"] == "personal-token-denied"
    finally:
        world.close()
