"""The embedded SQLite default under many concurrent writers: clients never see a lock error."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import World, _create_user, run_async, unique


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_concurrent_writers_never_see_database_is_locked(world: World) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    statuses: list[int] = []
    bodies: list[str] = []
    lock = threading.Lock()

    def write(index: int) -> None:
        kind = index % 4
        if kind == 0:
            response = owner.post(
                f"/api/0/organizations/{slug}/projects/", json={"slug": unique("p"), "name": "P"}
            )
        elif kind == 1:
            response = owner.post(
                "/api/0/users/me/tokens/", json={"name": unique("t"), "scopes": ["org:read"]}
            )
        elif kind == 2:
            response = owner.put(f"/api/0/organizations/{slug}/", json={"name": unique("n")})
        else:
            response = owner.post(
                f"/api/0/organizations/{slug}/tokens/",
                json={"name": unique("o"), "scopes": ["org:read"]},
            )
        with lock:
            statuses.append(response.status_code)
            bodies.append(response.text)

    def other_process_writes() -> None:
        # A second connection writing at the same time, as `tokenward createuser` would.
        for _ in range(5):
            run_async(_create_user(world.server.settings.database_url, f"{unique('c')}@x.io", "C"))

    side = threading.Thread(target=other_process_writes)
    side.start()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(write, range(120)))
    side.join()
    assert len(statuses) == 120
    assert all(200 <= status < 300 for status in statuses), sorted(set(statuses))
    assert not any("locked" in body for body in bodies)
    projects = owner.get(f"/api/0/organizations/{slug}/projects/").json()
    assert len(projects) == 30
