"""One upstream, one Tokenward with gateway mode, and one proxy of each kind, per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.gateway.proxies import PROXY_PARAMS, Proxy, running_proxy
from tests.gateway.upstream import Upstream, running_upstream
from tests.support import ApiClient, LiveServer, World, free_port, running_server

ROUTES = """\
default = "deny"

[[route]]
path = "/health"
access = "public"

[[route]]
path = "/me"
access = "user"

[[route]]
path = "/orgs/{{org}}/issues"
methods = ["GET"]
organization = "{{org}}"
scope = "project:read"

[[route]]
path = "/orgs/{{org}}/issues"
methods = ["POST"]
organization = "{{org}}"
scope = "project:write"

[[route]]
path = "/orgs/{{org}}/files/{{file:path}}"
organization = "{{org}}"
scope = "project:read"

[[route]]
path = "/issues/{{id}}"
organization_from = "issue"
scope = "project:read"

[[route]]
path = "/broken/{{id}}"
organization_from = "broken"
scope = "project:read"

[resolver.issue]
url = "{upstream}/internal/issues/{{id}}/org"
ttl_seconds = 30

[resolver.broken]
url = "http://127.0.0.1:{closed}/internal/issues/{{id}}/org"
ttl_seconds = 30
timeout_seconds = 1
"""


def write_routes(directory: Path, upstream: Upstream) -> str:
    path = directory / "routes.toml"
    path.write_text(ROUTES.format(upstream=upstream.url, closed=free_port()), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    with running_upstream() as running:
        yield running


@pytest.fixture(scope="module")
def routes_file(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_routes(tmp_path_factory.mktemp("routes"), upstream)


@pytest.fixture(scope="module", params=BACKENDS)
def gateway_server(
    request: pytest.FixtureRequest, database_urls: dict[str, str], routes_file: str
) -> Iterator[LiveServer]:
    with running_server(database_urls[request.param], gateway_routes=routes_file) as live:
        yield live


@pytest.fixture(scope="module", params=PROXY_PARAMS)
def proxy(
    request: pytest.FixtureRequest,
    gateway_server: LiveServer,
    upstream: Upstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Proxy]:
    directory = tmp_path_factory.mktemp(request.param)
    tokenward = f"127.0.0.1:{gateway_server.port}"
    with running_proxy(request.param, directory, tokenward, upstream.address) as running:
        yield running


@pytest.fixture
def gateway_world(gateway_server: LiveServer) -> Iterator[World]:
    world = World(gateway_server)
    yield world
    world.close()


def through(world: World, proxy: Proxy, client: ApiClient | None = None) -> ApiClient:
    """A client that talks to the proxy as ``client`` talks to Tokenward (same credentials)."""
    headers = dict(client.http.headers) if client is not None else {}
    headers.pop("host", None)
    via = ApiClient(proxy.url, headers)
    if client is not None:
        via.http.cookies = client.http.cookies
    world.clients.append(via)
    return via
