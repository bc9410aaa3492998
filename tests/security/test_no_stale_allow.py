"""No stale allow: once a change that denies has returned, not one request it denies gets a 2xx
on that process, and none on a second process a second later."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.support import ApiClient, World, running_server

PROPAGATION_BOUND = 1.0


@dataclass
class Shot:
    sent: float
    status: int


class Hammer:
    """Clients that keep sending one request until stopped, recording when each was sent."""

    def __init__(self, clients: list[ApiClient], path: str) -> None:
        self.clients = clients
        self.path = path
        self.shots: list[list[Shot]] = [[] for _ in clients]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(index,), daemon=True)
            for index in range(len(clients))
        ]

    def _run(self, index: int) -> None:
        client = self.clients[index]
        deadline = time.monotonic() + 30  # bounded, whatever happens
        while not self._stop.is_set() and time.monotonic() < deadline:
            sent = time.monotonic()
            status = client.get(self.path).status_code
            self.shots[index].append(Shot(sent, status))

    def __enter__(self) -> Hammer:
        for thread in self._threads:
            thread.start()
        time.sleep(0.3)  # let some requests through before the change
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(0.3)
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=35)

    def allowed_after(self, moment: float, clients: range | None = None) -> list[Shot]:
        picked = clients if clients is not None else range(len(self.clients))
        return [
            shot
            for index in picked
            for shot in self.shots[index]
            if shot.sent > moment and 200 <= shot.status < 300
        ]

    def allowed_before(self, moment: float) -> int:
        return sum(1 for shots in self.shots for s in shots if s.sent < moment and s.status == 200)


@pytest.fixture
def two_nodes(database_urls: dict[str, str]) -> Iterator[tuple[World, World]]:
    """Two server processes' worth of app (each with its own caches) over one PostgreSQL."""
    if "postgresql" not in database_urls:
        pytest.fail("this test needs the PostgreSQL backend (TOKENWARD_TEST_BACKENDS)")
    url, secret = database_urls["postgresql"], uuid.uuid4().hex
    with running_server(url, secret_key=secret) as a, running_server(url, secret_key=secret) as b:
        worlds = (World(a), World(b))
        yield worlds
        for world in worlds:
            world.close()


def _check(a: World, b: World, token: str, path: str, change: Callable[[], None]) -> None:
    local = [a.bearer(token) for _ in range(3)]
    remote = [b.bearer(token) for _ in range(3)]
    with Hammer([*local, *remote], path) as hammer:
        change()
        returned = time.monotonic()
        time.sleep(PROPAGATION_BOUND + 0.5)
    assert hammer.allowed_before(returned) > 0, "the token never worked: the test proves nothing"
    stale_local = hammer.allowed_after(returned, range(0, 3))
    stale_remote = hammer.allowed_after(returned + PROPAGATION_BOUND, range(3, 6))
    assert stale_local == [], f"{len(stale_local)} allowed on the same process after the change"
    assert stale_remote == [], f"{len(stale_remote)} allowed on the other process after 1 s"


def _setup(a: World) -> tuple[ApiClient, str, str, str]:
    owner = a.session("Owner")
    member_account = a.user("Member")
    slug = a.organization(owner)
    member_id = a.add_member(owner, slug, member_account, "member")
    member = a.login(member_account)
    token = a.personal_token(member, ["org:read", "project:read"])
    return owner, slug, member_id, token


def test_policy_flip_leaves_no_stale_allow(two_nodes: tuple[World, World]) -> None:
    a, b = two_nodes
    owner, slug, _, token = _setup(a)

    def flip() -> None:
        response = owner.put(
            f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}}
        )
        assert response.status_code == 200

    _check(a, b, token, f"/api/0/organizations/{slug}/", flip)


def test_token_revoke_leaves_no_stale_allow(two_nodes: tuple[World, World]) -> None:
    a, b = two_nodes
    owner_account = a.user("Owner")
    owner = a.login(owner_account)
    slug = a.organization(owner)
    token = a.personal_token(owner, ["org:read"])
    token_id = next(
        t["id"]
        for t in owner.get("/api/0/users/me/tokens/").json()
        if t["token_last_characters"] == token[-4:]
    )

    def revoke() -> None:
        assert owner.delete(f"/api/0/users/me/tokens/{token_id}/").status_code == 204

    _check(a, b, token, f"/api/0/organizations/{slug}/", revoke)


def test_member_removal_leaves_no_stale_allow(two_nodes: tuple[World, World]) -> None:
    a, b = two_nodes
    owner, slug, member_id, token = _setup(a)

    def remove() -> None:
        assert owner.delete(f"/api/0/organizations/{slug}/members/{member_id}/").status_code == 204

    _check(a, b, token, f"/api/0/organizations/{slug}/", remove)
