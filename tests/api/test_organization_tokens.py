"""Organization tokens: minted, listed and revoked from a session; bound to one organization;
scopes within the creator's role. Cast: 0 owns, 1 manager, 2 member, 3 owns another org."""

from __future__ import annotations

import re

import pytest

from tests.support import ALL, Cast, World, all_pages, assert_error, error_fields

OWNER, MANAGER, MEMBER, STRANGER = 0, 1, 2, 3
FIELDS = {
    "id",
    "name",
    "scopes",
    "token_last_characters",
    "created_at",
    "created_by",
    "last_used_at",
}


def tokens(slug: str) -> str:
    return f"/api/0/organizations/{slug}/tokens/"


def test_an_owner_mints_a_token_shown_once(cast: Cast) -> None:
    slug = cast.organization()
    owner = cast.session(OWNER)
    response = owner.post(tokens(slug), json={"name": "deploy", "scopes": ["project:read"]})
    assert response.status_code == 201, response.text
    created = response.json()
    assert FIELDS | {"token"} <= set(created)
    assert re.fullmatch(r"two_[0-9A-Za-z]{49}", created["token"])
    assert created["token_last_characters"] == created["token"][-4:]
    assert created["scopes"] == ["project:read"]
    assert created["created_by"]["email"] == cast.account(OWNER).email
    assert created["last_used_at"] is None

    listed = owner.get(tokens(slug))
    assert listed.status_code == 200
    assert created["token"] not in listed.text
    [item] = listed.json()
    assert set(item) >= FIELDS and "token" not in item
    assert item == {key: created[key] for key in item}


def test_an_organization_token_works_only_in_its_organization(cast: Cast, world: World) -> None:
    slug = cast.organization()
    other = cast.organization()  # same owner, still another organization
    bearer = world.bearer(world.organization_token(cast.session(OWNER), slug))
    assert bearer.get(f"/api/0/organizations/{slug}/").status_code == 200
    assert bearer.get(f"/api/0/organizations/{slug}/members/").status_code == 200
    missing = assert_error(
        cast.session(OWNER).get("/api/0/organizations/no-such-org-here/"), 404, "not-found"
    )
    for path in (f"/api/0/organizations/{other}/", f"/api/0/organizations/{other}/projects/"):
        assert assert_error(bearer.get(path), 404, "not-found") == missing
    project_id = cast.world.project(cast.session(OWNER), other)
    assert_error(bearer.get(f"/api/0/projects/{project_id}/"), 404, "not-found")


def test_an_organization_token_is_limited_to_its_scopes(cast: Cast, world: World) -> None:
    slug = cast.organization()
    bearer = world.bearer(world.organization_token(cast.session(OWNER), slug, ["project:read"]))
    assert bearer.get(f"/api/0/organizations/{slug}/projects/").status_code == 200
    refused = bearer.get(f"/api/0/organizations/{slug}/")
    assert_error(refused, 403, "insufficient-scope", {"required": "org:read"})
    create = bearer.post(f"/api/0/organizations/{slug}/projects/", json={"slug": "p", "name": "P"})
    assert_error(create, 403, "insufficient-scope", {"required": "project:write"})


def test_scopes_may_not_exceed_the_creators_role(cast: Cast) -> None:
    slug = cast.organization()
    cast.join(slug, MANAGER, "manager")
    manager = cast.session(MANAGER)
    beyond = manager.post(tokens(slug), json={"name": "x", "scopes": ["org:read", "org:admin"]})
    assert error_fields(beyond) == ["scopes"]
    assert "org:admin" in beyond.json()["detail"]["extra"]["errors"][0]["message"]
    within = manager.post(
        tokens(slug), json={"name": "x", "scopes": ["org:write", "member:admin", "project:admin"]}
    )
    assert within.status_code == 201, within.text
    assert within.json()["created_by"]["email"] == cast.account(MANAGER).email
    everything = cast.session(OWNER).post(tokens(slug), json={"name": "x", "scopes": sorted(ALL)})
    assert everything.status_code == 201


def test_a_member_may_list_but_not_mint_or_revoke(cast: Cast) -> None:
    slug = cast.organization()
    cast.join(slug, MEMBER, "member")
    made = cast.session(OWNER).post(tokens(slug), json={"name": "x", "scopes": ["org:read"]})
    member = cast.session(MEMBER)
    assert [item["id"] for item in member.get(tokens(slug)).json()] == [made.json()["id"]]
    required = {"required": "org:write"}
    mint = member.post(tokens(slug), json={"name": "x", "scopes": ["org:read"]})
    assert_error(mint, 403, "insufficient-scope", required)
    revoke = member.delete(f"{tokens(slug)}{made.json()['id']}/")
    assert_error(revoke, 403, "insufficient-scope", required)


def test_no_token_can_mint_list_or_revoke_tokens(cast: Cast, world: World) -> None:
    slug = cast.organization()
    org_token = world.bearer(world.organization_token(cast.session(OWNER), slug))
    token_id = cast.session(OWNER).get(tokens(slug)).json()[0]["id"]
    for bearer in (cast.token(OWNER), org_token):
        for method, path in (
            ("GET", tokens(slug)),
            ("POST", tokens(slug)),
            ("DELETE", f"{tokens(slug)}{token_id}/"),
        ):
            response = bearer.request(method, path, json={"name": "x", "scopes": ["org:read"]})
            assert_error(response, 403, "session-required")
    assert len(cast.session(OWNER).get(tokens(slug)).json()) == 1


def test_a_revoked_token_stops_working_at_once(cast: Cast, world: World) -> None:
    slug = cast.organization()
    owner = cast.session(OWNER)
    created = owner.post(tokens(slug), json={"name": "x", "scopes": ["org:read"]}).json()
    bearer = world.bearer(created["token"])
    assert bearer.get(f"/api/0/organizations/{slug}/").status_code == 200  # warm caches
    assert owner.delete(f"{tokens(slug)}{created['id']}/").status_code == 204
    assert_error(bearer.get(f"/api/0/organizations/{slug}/"), 401, "invalid-token")
    assert_error(bearer.get("/api/0/organizations/"), 401, "invalid-token")
    assert owner.get(tokens(slug)).json() == []
    assert_error(owner.delete(f"{tokens(slug)}{created['id']}/"), 404, "not-found")


def test_a_token_of_another_organization_cannot_be_revoked_here(cast: Cast, world: World) -> None:
    mine = cast.organization()
    theirs = cast.organization(STRANGER)
    their_token = cast.session(STRANGER).post(
        tokens(theirs), json={"name": "x", "scopes": ["org:read"]}
    )
    token_id = their_token.json()["id"]
    assert_error(cast.session(OWNER).delete(f"{tokens(mine)}{token_id}/"), 404, "not-found")
    bearer = world.bearer(their_token.json()["token"])
    assert bearer.get(f"/api/0/organizations/{theirs}/").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["org:read"]}, "name"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["org:root"]}, "scopes"),
        ({"name": "x", "scopes": ["org:read"], "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "scopes": ["org:read"], "organization": "other"}, "organization"),
    ],
)
def test_invalid_token_requests_are_400(cast: Cast, body: dict[str, object], field: str) -> None:
    slug = cast.organization()
    assert error_fields(cast.session(OWNER).post(tokens(slug), json=body)) == [field]
    assert cast.session(OWNER).get(tokens(slug)).json() == []


def test_organization_token_list_pages(cast: Cast) -> None:
    slug = cast.organization()
    for index in range(3):
        cast.session(OWNER).post(tokens(slug), json={"name": f"t{index}", "scopes": ["org:read"]})
    pages = all_pages(cast.session(OWNER), tokens(slug), per_page=2)
    assert [[item["name"] for item in page] for page in pages] == [["t0", "t1"], ["t2"]]
