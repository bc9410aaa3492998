"""No stale allow: once a change that denies has returned, not one request it denies gets a 2xx
on that process, and none on a second process a second later."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.support import ON_POSTGRES, ApiClient, World, running_server

PROPAGATION_BOUND = 1.0
LOCAL, REMOTE = range(0, 3), range(3, 6)  # the hammer's clients on the changing / other process


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
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(index,), daemon=True)
            for index in range(len(clients))
        ]

    def _run(self, index: int) -> None:
        client = self.clients[index]
        deadline = time.monotonic() + 60  # bounded, whatever happens
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                sent = time.monotonic()
                status = client.get(self.path).status_code
                self.shots[index].append(Shot(sent, status))
        except BaseException as error:  # a client that died must fail the test, not go quiet
            self.errors.append(error)

    def __enter__(self) -> Hammer:
        for thread in self._threads:
            thread.start()
        time.sleep(0.3)  # let some requests through before the change
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(0.3)
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=65)
        assert not any(thread.is_alive() for thread in self._threads), "a client hung"
        assert self.errors == [], f"clients failed: {self.errors!r}"

    def answered_after(self, moment: float, clients: range) -> list[Shot]:
        return [shot for index in clients for shot in self.shots[index] if shot.sent > moment]

    def until_answered(self, moment: float, clients: range) -> None:
        """Wait until every one of ``clients`` has an answer to a request sent after ``moment``."""
        deadline = time.monotonic() + 30  # only catches a hang; a busy machine is slow, not wrong
        while not all(self.answered_after(moment, range(i, i + 1)) for i in clients):
            assert time.monotonic() < deadline, "clients got no answer after the change"
            assert self.errors == [], f"clients failed: {self.errors!r}"
            time.sleep(0.05)

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


@pytest.fixture(params=[ON_POSTGRES])
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
        hammer.until_answered(returned, LOCAL)
        time.sleep(PROPAGATION_BOUND)
        hammer.until_answered(returned + PROPAGATION_BOUND, REMOTE)
    assert hammer.allowed_before(returned) > 0, "the token never worked: the test proves nothing"
    # Each server must have answered after the change, or its silence would pass for no allow.
    for name, clients, since in (
        ("same", LOCAL, returned),
        ("other", REMOTE, returned + PROPAGATION_BOUND),
    ):
        answered = hammer.answered_after(since, clients)
        assert answered, f"the {name} process answered nothing after the change"
        assert all(400 <= shot.status < 500 for shot in answered), (name, answered)
    stale_local = hammer.allowed_after(returned, LOCAL)
    stale_remote = hammer.allowed_after(returned + PROPAGATION_BOUND, REMOTE)
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
