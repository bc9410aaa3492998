"""When the store cannot be reached, Tokenward answers 503 — never an allow on a guess, never a
stack — and recovers by itself when the store is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import (
    ON_POSTGRES,
    ApiClient,
    LiveServer,
    World,
    error_code,
    eventually,
    running_server,
)
from tests.tcp_proxy import TcpProxy


@pytest.fixture(params=[ON_POSTGRES])
def proxied(database_urls: dict[str, str]) -> Iterator[tuple[LiveServer, TcpProxy]]:
    """A second server over the test PostgreSQL database, reached through a proxy we can cut."""
    if "postgresql" not in database_urls:
        pytest.fail("this test needs the PostgreSQL backend (TOKENWARD_TEST_BACKENDS)")
    url = database_urls["postgresql"]
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    proxied_url = url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
    assert proxied_url != url
    with running_server(proxied_url) as server:
        yield server, proxy
        proxy.cut()


def test_store_outage_answers_503_and_recovers(proxied: tuple[LiveServer, TcpProxy]) -> None:
    server, proxy = proxied
    world = World(server)
    owner = world.session("Owner")
    slug = world.organization(owner)
    project = world.project(owner, slug)
    token = world.personal_token(owner, ["org:read", "project:read"])
    bearer = world.bearer(token)
    anonymous = world.anonymous()
    assert bearer.get(f"/api/0/projects/{project}/").status_code == 200

    proxy.cut()
    requests: list[tuple[ApiClient, str, str]] = [
        (bearer, "GET", f"/api/0/projects/{project}/"),
        (bearer, "GET", f"/api/0/organizations/{slug}/"),
        (owner, "GET", f"/api/0/organizations/{slug}/members/"),
        (owner, "PUT", f"/api/0/organizations/{slug}/"),
        (anonymous, "GET", "/healthz"),
        (anonymous, "POST", "/api/0/auth/login/"),
    ]
    for client, method, path in requests:
        body = {"email": "a@example.com", "password": "x"} if path.endswith("login/") else None
        if method == "PUT":
            body = {"settings": {"allow_personal_tokens": False}}
        response = client.request(method, path, json=body)
        assert response.status_code == 503, (method, path, response.status_code, response.text)
        assert error_code(response) == "unavailable"
        assert "Traceback" not in response.text

    proxy.restore()
    assert eventually(lambda: anonymous.get("/healthz").status_code == 200, seconds=15)
    assert eventually(
        lambda: bearer.get(f"/api/0/projects/{project}/").status_code == 200, seconds=15
    )
    # The PUT refused during the outage changed nothing.
    settings = owner.get(f"/api/0/organizations/{slug}/").json()["settings"]
    assert settings["allow_personal_tokens"] is True
    world.close()
