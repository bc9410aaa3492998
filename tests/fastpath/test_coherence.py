"""Coherence: a change that affects a decision is never answered the old way by the process that
made it, reaches other processes, and survives a lost listener or notification."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.fastpath.conftest import (
    HANG,
    LONG_TTL,
    execute_sql,
    listening,
    on_server_loop,
    start_server,
    wait_for,
)
from tests.support import ApiClient, LiveServer, World, error_code

Request = Callable[[], httpx.Response]


def _outcome(response: httpx.Response) -> tuple[int, str | None]:
    return response.status_code, error_code(response)


def _warm(request: Request, expected: int = 200) -> None:
    for _ in range(3):
        assert request().status_code == expected


def _follows(request: Request, expected: tuple[int, str | None]) -> None:
    """Poll until the new decision is answered, then it stays. With a cache TTL of an hour only
    the change notification can explain it; how fast it comes is measured by ``make bench``
    (propagation), the deadline here only catches a process that never follows."""
    deadline = time.monotonic() + HANG
    while _outcome(request()) != expected:
        assert time.monotonic() < deadline, "the other process kept the old answer"
    for _ in range(5):
        assert _outcome(request()) == expected


class _Statements:
    """Counts the SELECTs a server's store runs (usage batches may write meanwhile)."""

    def __init__(self, server: LiveServer) -> None:
        self._watch = server.app.state.store.statements()
        self._seen: list[str] = []

    def __enter__(self) -> _Statements:
        self._seen = self._watch.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._watch.__exit__(*exc)

    @property
    def selects(self) -> int:
        return sum(sql.lstrip().upper().startswith("SELECT") for sql in self._seen)


# --- one process ---------------------------------------------------------------------------


def test_warm_requests_touch_no_store_for_authentication_and_policy(world: World) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    bearer = world.bearer(world.personal_token(owner, ["org:read"]))
    _warm(lambda: bearer.get(f"/api/0/organizations/{slug}/"))
    with _Statements(world.server) as statements:
        for _ in range(20):
            assert bearer.get(f"/api/0/organizations/{slug}/").status_code == 200
    assert statements.selects == 0


def test_the_same_process_never_answers_the_old_policy(world: World) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    bearer = world.bearer(world.personal_token(owner, ["org:read"]))
    path = f"/api/0/organizations/{slug}/"
    for allow in (False, True, False):
        _warm(lambda: bearer.get(path), 200 if not allow else 403)
        changed = owner.put(path, json={"settings": {"allow_personal_tokens": allow}})
        assert changed.status_code == 200
        expected = (200, None) if allow else (403, "personal-token-denied")
        assert _outcome(bearer.get(path)) == expected


def test_the_same_process_never_accepts_a_revoked_token(world: World) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    token = world.personal_token(owner, ["org:read"])
    bearer = world.bearer(token)
    _warm(lambda: bearer.get(f"/api/0/organizations/{slug}/"))
    listed = owner.get("/api/0/users/me/tokens/").json()
    token_id = next(t["id"] for t in listed if token.endswith(t["token_last_characters"]))
    assert owner.delete(f"/api/0/users/me/tokens/{token_id}/").status_code == 204
    assert _outcome(bearer.get(f"/api/0/organizations/{slug}/")) == (401, "invalid-token")


def test_the_same_process_never_accepts_a_revoked_organization_token(world: World) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    token = world.organization_token(owner, slug, ["org:read"])
    bearer = world.bearer(token)
    _warm(lambda: bearer.get(f"/api/0/organizations/{slug}/"))
    listed = owner.get(f"/api/0/organizations/{slug}/tokens/").json()
    token_id = next(t["id"] for t in listed if token.endswith(t["token_last_characters"]))
    assert owner.delete(f"/api/0/organizations/{slug}/tokens/{token_id}/").status_code == 204
    assert _outcome(bearer.get(f"/api/0/organizations/{slug}/")) == (401, "invalid-token")


def test_the_same_process_follows_member_removal_and_role_changes(world: World) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    account = world.user("Manager")
    member_id = world.add_member(owner, slug, account, "manager")
    manager = world.login(account)
    bearer = world.bearer(world.personal_token(manager, ["org:read", "org:write"]))
    audit = f"/api/0/organizations/{slug}/audit-logs/"
    _warm(lambda: bearer.get(audit))

    demoted = owner.put(
        f"/api/0/organizations/{slug}/members/{member_id}/", json={"role": "member"}
    )
    assert demoted.status_code == 200
    assert _outcome(bearer.get(audit)) == (403, "insufficient-scope")

    removed = owner.delete(f"/api/0/organizations/{slug}/members/{member_id}/")
    assert removed.status_code == 204
    assert _outcome(bearer.get(f"/api/0/organizations/{slug}/")) == (404, "not-found")


def test_a_new_member_is_let_in_at_once(world: World) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    account = world.user("Newcomer")
    bearer = world.bearer(world.personal_token(world.login(account), ["org:read"]))
    _warm(lambda: bearer.get(f"/api/0/organizations/{slug}/"), 404)  # cached as an outsider
    world.add_member(owner, slug, account, "member")
    assert bearer.get(f"/api/0/organizations/{slug}/").status_code == 200


def test_an_ended_session_stops_working_at_once(world: World) -> None:
    session = world.session("Leaver")
    cookies = dict(session.http.cookies)
    _warm(lambda: session.get("/api/0/users/me/"))
    assert session.post("/api/0/auth/logout/").status_code == 204
    replay = world.client()
    replay.http.cookies.update(cookies)
    assert replay.get("/api/0/users/me/").status_code == 401


# --- several processes on one PostgreSQL ---------------------------------------------------


def _owner_token_and_org(world: World) -> tuple[ApiClient, str, str]:
    owner = world.session("Owner")
    slug = world.organization(owner)
    return owner, slug, world.personal_token(owner, ["org:read"])


def test_a_policy_flip_reaches_another_process(world_a: World, world_b: World) -> None:
    owner, slug, token = _owner_token_and_org(world_a)
    on_b = world_b.bearer(token)
    path = f"/api/0/organizations/{slug}/"
    for allow in (False, True, False):
        _warm(lambda: on_b.get(path), 403 if allow else 200)
        assert owner.put(path, json={"settings": {"allow_personal_tokens": allow}}).is_success
        expected = (200, None) if allow else (403, "personal-token-denied")
        _follows(lambda: on_b.get(path), expected)


def test_a_revocation_reaches_another_process(world_a: World, world_b: World) -> None:
    owner, slug, token = _owner_token_and_org(world_a)
    on_b = world_b.bearer(token)
    path = f"/api/0/organizations/{slug}/"
    _warm(lambda: on_b.get(path))
    listed = owner.get("/api/0/users/me/tokens/").json()
    token_id = next(t["id"] for t in listed if token.endswith(t["token_last_characters"]))
    assert owner.delete(f"/api/0/users/me/tokens/{token_id}/").status_code == 204
    _follows(lambda: on_b.get(path), (401, "invalid-token"))


def test_a_member_removal_reaches_another_process(world_a: World, world_b: World) -> None:
    owner = world_a.session("Owner")
    slug = world_a.organization(owner)
    account = world_a.user("Member")
    member_id = world_a.add_member(owner, slug, account, "member")
    on_b = world_b.bearer(world_a.personal_token(world_a.login(account), ["org:read"]))
    path = f"/api/0/organizations/{slug}/"
    _warm(lambda: on_b.get(path))
    assert owner.delete(f"/api/0/organizations/{slug}/members/{member_id}/").status_code == 204
    _follows(lambda: on_b.get(path), (404, "not-found"))


def _deny_behind_the_back(url: str, slug: str) -> None:
    execute_sql(url, "UPDATE organizations SET allow_personal_tokens = false WHERE slug = $1", slug)


def test_a_killed_listener_reconnects_and_flushes_the_caches(
    world_a: World, node_b: LiveServer, world_b: World
) -> None:
    _, slug, token = _owner_token_and_org(world_a)
    on_b = world_b.bearer(token)
    path = f"/api/0/organizations/{slug}/"
    _warm(lambda: on_b.get(path))
    _deny_behind_the_back(node_b.settings.database_url, slug)
    assert on_b.get(path).status_code == 200  # stale, as nothing was announced

    listener = node_b.app.state.coherence.listener
    killed = listener.backend_pid
    assert execute_sql(node_b.settings.database_url, "SELECT pg_terminate_backend($1)", killed), (
        "the listener's backend was not found"
    )
    wait_for(lambda: listening(node_b) and listener.backend_pid != killed, "a new listener")
    assert _outcome(on_b.get(path)) == (403, "personal-token-denied")


@pytest.fixture
def lone_node(postgres_url: str, secret: str) -> Iterator[LiveServer]:
    server = start_server(postgres_url, secret)
    yield server
    server.stop()


def test_caches_are_bypassed_while_the_listener_is_down(
    world_a: World, lone_node: LiveServer
) -> None:
    _, slug, token = _owner_token_and_org(world_a)
    world = World(lone_node)
    bearer = world.bearer(token)
    path = f"/api/0/organizations/{slug}/"
    _warm(lambda: bearer.get(path))
    listener = lone_node.app.state.coherence.listener
    on_server_loop(lone_node, listener.stop)
    assert not lone_node.app.state.caches.usable
    _deny_behind_the_back(lone_node.settings.database_url, slug)
    assert _outcome(bearer.get(path)) == (403, "personal-token-denied")
    world.close()


class _Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def test_a_lost_notification_is_covered_by_the_ttl(world_a: World, lone_node: LiveServer) -> None:
    clock = _Clock()
    lone_node.app.state.caches.clock = clock
    _, slug, token = _owner_token_and_org(world_a)
    world = World(lone_node)
    bearer = world.bearer(token)
    path = f"/api/0/organizations/{slug}/"
    _warm(lambda: bearer.get(path))
    _deny_behind_the_back(lone_node.settings.database_url, slug)  # a notification never sent
    assert bearer.get(path).status_code == 200
    clock.offset = LONG_TTL + 1
    assert _outcome(bearer.get(path)) == (403, "personal-token-denied")
    world.close()
