"""Concurrent requests keep the rules: one owner always stays, a slug is taken once, a member is
added once; the losers hear a 4xx, never a 5xx. Cast: 0 and 1 owners, 2 a candidate member."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support import ApiClient, Cast, unique

ATTEMPTS = 8
Request = tuple[ApiClient, str, str, dict[str, Any] | None]


def together(*requests: Request) -> list[int]:
    """Send the requests at once; their statuses, sorted."""

    def send(request: Request) -> int:
        client, method, path, body = request
        return client.request(method, path, json=body).status_code

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return sorted(pool.map(send, requests))


def owners_at_war(cast: Cast, method: str, body: dict[str, Any] | None) -> tuple[list[int], str]:
    """Two owners of a fresh organization each send ``method`` at the other's membership."""
    slug = cast.organization(0)
    cast.join(slug, 1, "owner")
    url = f"/api/0/organizations/{slug}/members/"
    ids = {item["user"]["email"]: item["id"] for item in cast.session(0).get(url).json()}
    statuses = together(
        (cast.session(0), method, f"{url}{ids[cast.account(1).email]}/", body),
        (cast.session(1), method, f"{url}{ids[cast.account(0).email]}/", body),
    )
    return statuses, url


@pytest.mark.parametrize("round_", range(3))
def test_two_owners_removing_each_other_leave_one_owner(cast: Cast, round_: int) -> None:
    statuses, url = owners_at_war(cast, "DELETE", None)
    assert statuses[0] == 204, statuses
    assert statuses[1] in (404, 409), statuses  # the loser is gone, or would be the last owner
    survivors = [cast.session(index).get(url) for index in (0, 1)]
    members = [response.json() for response in survivors if response.status_code == 200]
    assert len(members) == 1, [response.status_code for response in survivors]
    assert [item["role"] for item in members[0]] == ["owner"]


@pytest.mark.parametrize("round_", range(3))
def test_two_owners_demoting_each_other_leave_one_owner(cast: Cast, round_: int) -> None:
    statuses, url = owners_at_war(cast, "PUT", {"role": "member"})
    assert statuses[0] == 200, statuses
    assert statuses[1] in (403, 409), statuses  # demoted first, or would be the last owner
    roles = [item["role"] for item in cast.session(0).get(url).json()]
    assert sorted(roles) == ["member", "owner"], roles


def test_a_slug_is_taken_once(cast: Cast) -> None:
    slug = unique("race")
    body = {"slug": slug, "name": "Race"}
    create = (cast.session(0), "POST", "/api/0/organizations/", body)
    assert together(*[create] * ATTEMPTS) == [201] + [409] * (ATTEMPTS - 1)
    project = (
        cast.session(0),
        "POST",
        f"/api/0/organizations/{slug}/projects/",
        {"slug": "p", "name": "P"},
    )
    assert together(*[project] * ATTEMPTS) == [201] + [409] * (ATTEMPTS - 1)


def test_a_member_is_added_once(cast: Cast) -> None:
    slug = cast.organization(0)
    url = f"/api/0/organizations/{slug}/members/"
    add = (cast.session(0), "POST", url, {"email": cast.account(2).email, "role": "member"})
    assert together(*[add] * ATTEMPTS) == [201] + [409] * (ATTEMPTS - 1)
    assert len(cast.session(0).get(url).json()) == 2
