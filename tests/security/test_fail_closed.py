"""When the store cannot be reached, Tokenward answers 503 — never an allow on a guess, never a
stack — and recovers by itself when the store is back.

A server distrusts its caches on either of two signals, each proved alone here: a store error
during a request (while its change listener still looks healthy), and its listener finding its
connection dead (silently dropped: no error ever reaches a request)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fastpath.conftest import LONG_TTL, execute_sql, listening, wait_for
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
    # Caches live an hour: only the signals under test can explain a fresh answer.
    with running_server(proxied_url, cache_ttl_seconds=LONG_TTL) as server:
        wait_for(lambda: listening(server), "the change listener to connect")
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
        (bearer, "GET", f"/api/0/organizations/{slug}/projects/"),
        (owner, "GET", f"/api/0/organizations/{slug}/members/"),
        (owner, "PUT", f"/api/0/organizations/{slug}/"),
        (anonymous, "GET", "/healthz"),
        (anonymous, "POST", "/api/0/auth/login/"),
    ]
    for client, method, path in requests:
        body: dict[str, object] | None = None
        if path.endswith("login/"):
            body = {"email": "a@example.com", "password": "x"}
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


def _warm_bearer(server: LiveServer) -> tuple[World, ApiClient, ApiClient, str]:
    world = World(server)
    owner = world.session("Owner")
    slug = world.organization(owner)
    world.project(owner, slug)
    bearer = world.bearer(world.personal_token(owner, ["org:read", "project:read"]))
    for _ in range(3):  # principal and organization now answered from the caches
        assert bearer.get(f"/api/0/organizations/{slug}/").status_code == 200
        assert bearer.get(f"/api/0/organizations/{slug}/projects/").status_code == 200
    return world, owner, bearer, slug


# A read through the request's session (members), and one of columns without a session
# (the project list, its gate answered from the caches).
@pytest.mark.parametrize("failing", ["members", "projects"])
def test_a_store_error_during_a_request_alone_stops_the_caches(
    proxied: tuple[LiveServer, TcpProxy], failing: str
) -> None:
    server, proxy = proxied
    world, owner, bearer, slug = _warm_bearer(server)
    proxy.cut(spare_listeners=True)  # the change listener keeps its connection, and its pings
    reader = owner if failing == "members" else bearer
    failed = reader.get(f"/api/0/organizations/{slug}/{failing}/")  # reads the store: fails
    assert (failed.status_code, error_code(failed)) == (503, "unavailable"), failed.text
    # The listener never lost anything, yet the cached allow is not served on a guess.
    cached = bearer.get(f"/api/0/organizations/{slug}/")
    assert (cached.status_code, error_code(cached)) == (503, "unavailable"), cached.text
    world.close()


def test_a_silently_dead_listener_alone_stops_the_caches(
    proxied: tuple[LiveServer, TcpProxy],
) -> None:
    server, proxy = proxied
    world, _, bearer, slug = _warm_bearer(server)
    assert proxy.drop_listeners_silently() == 1  # requests still reach the store; it hears nothing
    url = server.settings.database_url.replace(f"127.0.0.1:{proxy.port}", "127.0.0.1:5432")
    _deny_behind_the_back(url, slug)  # a change whose notification could not be heard anyway
    # Only the listener finding its connection dead (its ping unanswered) can end the cached
    # allow: it flushes the caches and reconnects, and the change is read fresh.
    path = f"/api/0/organizations/{slug}/"
    assert eventually(lambda: error_code(bearer.get(path)) == "personal-token-denied", 30.0)
    assert error_code(bearer.get(path)) == "personal-token-denied"
    world.close()


def _deny_behind_the_back(url: str, slug: str) -> None:
    execute_sql(url, "UPDATE organizations SET allow_personal_tokens = false WHERE slug = $1", slug)
