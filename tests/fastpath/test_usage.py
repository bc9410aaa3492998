"""Usage is gathered in memory and written in batches: a few statements for many requests,
exact counts after a flush, and the last batch written at shutdown. Metrics show it all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import BACKENDS
from tests.fastpath.conftest import on_server_loop, start_server
from tests.support import ApiClient, LiveServer, World, _migrate, run_async
from tokenward.store.engine import Store
from tokenward.store.usage import TokenUsage

NEVER = 3600.0  # no timed flush during a test: only the explicit ones and shutdown


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    url = database_urls[request.param]
    run_async(_migrate(url))
    return url


@pytest.fixture
def quiet_server(database_url: str) -> Iterator[LiveServer]:
    server = start_server(database_url, uuid.uuid4().hex, usage_flush_seconds=NEVER)
    yield server
    server.stop()


class _Writes:
    def __init__(self, server: LiveServer) -> None:
        self._watch = server.app.state.store.statements()
        self._seen: list[str] = []

    def __enter__(self) -> _Writes:
        self._seen = self._watch.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._watch.__exit__(*exc)

    @property
    def statements(self) -> list[str]:
        upper = (sql.lstrip().upper() for sql in self._seen)
        return [sql for sql in upper if sql.startswith(("INSERT", "UPDATE", "DELETE"))]


def _usage_rows(database_url: str, organization_id: int) -> list[tuple[str, int, int, int]]:
    async def read() -> list[tuple[str, int, int, int]]:
        store = Store(database_url)
        try:
            async with store.session() as db:
                rows = await db.scalars(
                    select(TokenUsage).where(TokenUsage.organization_id == organization_id)
                )
                return [(r.token_kind, r.token_id, r.allowed, r.denied) for r in rows]
        finally:
            await store.close()

    result: list[tuple[str, int, int, int]] = run_async(read())
    return result


def _token_id(owner: ApiClient, token: str) -> int:
    listed = owner.get("/api/0/users/me/tokens/").json()
    return int(next(t["id"] for t in listed if token.endswith(t["token_last_characters"])))


def test_many_requests_make_a_few_writes_and_exact_counts(
    quiet_server: LiveServer, database_url: str
) -> None:
    world = World(quiet_server)
    owner = world.session("Owner")
    slug = world.organization(owner)
    organization_id = int(owner.get(f"/api/0/organizations/{slug}/").json()["id"])
    token = world.personal_token(owner, ["org:read"])
    bearer = world.bearer(token)
    usage = quiet_server.app.state.usage

    with _Writes(quiet_server) as writes:
        for _ in range(60):
            assert bearer.get(f"/api/0/organizations/{slug}/").status_code == 200
        for _ in range(25):
            assert bearer.get(f"/api/0/organizations/{slug}/members/").status_code == 403
        assert writes.statements == []  # nothing is written per request
        on_server_loop(quiet_server, usage.flush)
    assert 1 <= len(writes.statements) <= 3  # last_used_at, the counts, nothing per request

    assert _usage_rows(database_url, organization_id) == [
        ("personal", _token_id(owner, token), 60, 25)
    ]
    listed = owner.get("/api/0/users/me/tokens/").json()
    assert next(t for t in listed if token.endswith(t["token_last_characters"]))["last_used_at"]

    for _ in range(5):
        bearer.get(f"/api/0/organizations/{slug}/")
    on_server_loop(quiet_server, usage.flush)
    assert _usage_rows(database_url, organization_id)[0][2:] == (65, 25)  # added, not replaced
    world.close()


def test_organization_tokens_are_counted_too(quiet_server: LiveServer, database_url: str) -> None:
    world = World(quiet_server)
    owner = world.session("Owner")
    slug = world.organization(owner)
    organization_id = int(owner.get(f"/api/0/organizations/{slug}/").json()["id"])
    bearer = world.bearer(world.organization_token(owner, slug, ["org:read"]))
    for _ in range(4):
        assert bearer.get(f"/api/0/organizations/{slug}/").status_code == 200
    on_server_loop(quiet_server, quiet_server.app.state.usage.flush)
    rows = _usage_rows(database_url, organization_id)
    assert [(kind, allowed, denied) for kind, _, allowed, denied in rows] == [
        ("organization", 4, 0)
    ]
    world.close()


def test_shutdown_writes_the_last_batch(database_url: str) -> None:
    server = start_server(database_url, uuid.uuid4().hex, usage_flush_seconds=NEVER)
    world = World(server)
    owner = world.session("Owner")
    slug = world.organization(owner)
    organization_id = int(owner.get(f"/api/0/organizations/{slug}/").json()["id"])
    bearer = world.bearer(world.personal_token(owner, ["org:read"]))
    for _ in range(7):
        assert bearer.get(f"/api/0/organizations/{slug}/").status_code == 200
    world.close()
    assert _usage_rows(database_url, organization_id) == []
    server.stop()
    assert [row[2:] for row in _usage_rows(database_url, organization_id)] == [(7, 0)]


def test_metrics_count_decisions_caches_and_batches(quiet_server: LiveServer) -> None:
    world = World(quiet_server)
    owner = world.session("Owner")
    slug = world.organization(owner)
    bearer = world.bearer(world.personal_token(owner, ["org:read"]))
    for _ in range(3):
        bearer.get(f"/api/0/organizations/{slug}/")
    bearer.get(f"/api/0/organizations/{slug}/members/")
    on_server_loop(quiet_server, quiet_server.app.state.usage.flush)

    response = world.anonymous().get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples['tokenward_decisions_total{code="ok",outcome="allowed"}'] >= 3
    assert samples['tokenward_decisions_total{code="insufficient-scope",outcome="denied"}'] >= 1
    assert samples['tokenward_cache_hits_total{cache="principal"}'] >= 2
    assert samples['tokenward_cache_misses_total{cache="principal"}'] >= 1
    assert samples["tokenward_usage_batches_total"] >= 1
    assert samples["tokenward_usage_writes_total"] >= 1
    assert "tokenward_invalidations_received_total" in response.text
    world.close()


def _samples(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples
