"""Members: list, add an existing user, change a role, remove; owners are managed by owners and
the last owner stays. Cast: 0 owns, 1 manager, 2 and 3 members or candidates, 4 outside."""

from __future__ import annotations

import pytest

from tests.support import Cast, World, all_pages, assert_error, error_fields, unique

OWNER, MANAGER, ALICE, BOB, OUTSIDER = 0, 1, 2, 3, 4


def members(slug: str) -> str:
    return f"/api/0/organizations/{slug}/members/"


def roles(cast: Cast, slug: str) -> dict[str, str]:
    listed = cast.session(OWNER).get(members(slug)).json()
    return {item["user"]["email"]: item["role"] for item in listed}


def test_adding_a_member_answers_the_membership(cast: Cast) -> None:
    slug = cast.organization()
    response = cast.session(OWNER).post(
        members(slug), json={"email": cast.account(ALICE).email.upper(), "role": "member"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "user", "role", "created_at"}
    assert isinstance(body["id"], str)
    assert set(body["user"]) == {"id", "email", "name"}
    assert body["user"]["email"] == cast.account(ALICE).email
    assert body["role"] == "member"
    listed = cast.session(ALICE).get(members(slug)).json()  # members may read the list
    assert body in listed
    assert len(listed) == 2


def test_an_unknown_email_is_invited(cast: Cast) -> None:
    slug = cast.organization()
    email = f"{unique('nobody')}@example.com"
    response = cast.session(OWNER).post(members(slug), json={"email": email, "role": "member"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "email", "role", "status", "created_at", "expires_at"}
    assert (body["email"], body["status"]) == (email, "invited")
    assert email not in [m["user"]["email"] for m in cast.session(OWNER).get(members(slug)).json()]


def test_adding_someone_twice_is_409(cast: Cast) -> None:
    slug = cast.organization()
    cast.join(slug, ALICE, "member")
    again = cast.session(OWNER).post(
        members(slug), json={"email": cast.account(ALICE).email, "role": "manager"}
    )
    assert_error(again, 409, "conflict")
    owner_again = cast.session(OWNER).post(
        members(slug), json={"email": cast.account(OWNER).email, "role": "member"}
    )
    assert_error(owner_again, 409, "conflict")
    assert roles(cast, slug)[cast.account(ALICE).email] == "member"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["email", "role"]),
        ({"email": "not-an-email", "role": "member"}, ["email"]),
        ({"email": "a@example.com", "role": "admin"}, ["role"]),
        ({"email": "a@example.com", "role": "member", "scopes": []}, ["scopes"]),
    ],
)
def test_invalid_additions_are_400(cast: Cast, body: dict[str, object], fields: list[str]) -> None:
    slug = cast.organization()
    response = cast.session(OWNER).post(members(slug), json=body)
    assert sorted(error_fields(response)) == sorted(fields)


def test_a_manager_manages_members_but_not_owners(cast: Cast) -> None:
    slug = cast.organization()
    cast.join(slug, MANAGER, "manager")
    manager = cast.session(MANAGER)
    alice = cast.account(ALICE).email

    adding_owner = manager.post(members(slug), json={"email": alice, "role": "owner"})
    assert_error(adding_owner, 403, "forbidden", {"required_role": "owner"})
    assert alice not in roles(cast, slug)

    added = manager.post(members(slug), json={"email": alice, "role": "member"})
    assert added.status_code == 201
    alice_id = added.json()["id"]
    promoted = manager.put(f"{members(slug)}{alice_id}/", json={"role": "manager"})
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "manager"

    to_owner = manager.put(f"{members(slug)}{alice_id}/", json={"role": "owner"})
    assert_error(to_owner, 403, "forbidden", {"required_role": "owner"})

    owner_id = next(
        item["id"]
        for item in manager.get(members(slug)).json()
        if item["user"]["email"] == cast.account(OWNER).email
    )
    demote_owner = manager.put(f"{members(slug)}{owner_id}/", json={"role": "member"})
    assert_error(demote_owner, 403, "forbidden", {"required_role": "owner"})
    remove_owner = manager.delete(f"{members(slug)}{owner_id}/")
    assert_error(remove_owner, 403, "forbidden", {"required_role": "owner"})

    assert manager.delete(f"{members(slug)}{alice_id}/").status_code == 204
    assert roles(cast, slug) == {
        cast.account(OWNER).email: "owner",
        cast.account(MANAGER).email: "manager",
    }


def test_a_member_may_read_members_but_not_change_them(cast: Cast) -> None:
    slug = cast.organization()
    cast.join(slug, ALICE, "member")
    bob_id = cast.join(slug, BOB, "member")
    alice = cast.session(ALICE)
    assert alice.get(members(slug)).status_code == 200
    required = {"required": "member:write"}
    body = {"email": cast.account(MANAGER).email, "role": "member"}
    assert_error(alice.post(members(slug), json=body), 403, "insufficient-scope", required)
    change = alice.put(f"{members(slug)}{bob_id}/", json={"role": "manager"})
    assert_error(change, 403, "insufficient-scope", required)
    assert_error(alice.delete(f"{members(slug)}{bob_id}/"), 403, "insufficient-scope", required)


def test_an_owner_may_add_and_promote_owners_and_then_step_down(cast: Cast) -> None:
    slug = cast.organization()
    owner = cast.session(OWNER)
    added = owner.post(members(slug), json={"email": cast.account(ALICE).email, "role": "owner"})
    assert added.status_code == 201
    assert added.json()["role"] == "owner"
    bob_id = cast.join(slug, BOB, "member")
    promoted = owner.put(f"{members(slug)}{bob_id}/", json={"role": "owner"})
    assert promoted.json()["role"] == "owner"
    # A co-owner may now remove the first owner.
    owner_id = next(
        item["id"]
        for item in owner.get(members(slug)).json()
        if item["user"]["email"] == cast.account(OWNER).email
    )
    assert cast.session(ALICE).delete(f"{members(slug)}{owner_id}/").status_code == 204
    assert_error(owner.get(f"/api/0/organizations/{slug}/"), 404, "not-found")


def test_the_last_owner_can_be_neither_removed_nor_demoted(cast: Cast) -> None:
    slug = cast.organization()
    owner = cast.session(OWNER)
    [me] = owner.get(members(slug)).json()
    assert_error(owner.delete(f"{members(slug)}{me['id']}/"), 409, "conflict")
    for role in ("manager", "member"):
        demoted = owner.put(f"{members(slug)}{me['id']}/", json={"role": role})
        assert_error(demoted, 409, "conflict")
    # An unchanged role is no change.
    same = owner.put(f"{members(slug)}{me['id']}/", json={"role": "owner"})
    assert same.status_code == 200
    assert roles(cast, slug) == {cast.account(OWNER).email: "owner"}

    # With a second owner, one may go.
    cast.join(slug, ALICE, "owner")
    demoted = owner.put(f"{members(slug)}{me['id']}/", json={"role": "manager"})
    assert demoted.status_code == 200
    alice_id = next(
        item["id"]
        for item in owner.get(members(slug)).json()
        if item["user"]["email"] == cast.account(ALICE).email
    )
    # Alice is now the last owner again.
    assert_error(cast.session(ALICE).delete(f"{members(slug)}{alice_id}/"), 409, "conflict")


def test_a_removed_member_loses_access_at_once(cast: Cast) -> None:
    slug = cast.organization()
    alice_id = cast.join(slug, ALICE, "member")
    token = cast.token(ALICE, ["org:read"])
    for client in (cast.session(ALICE), token):
        assert client.get(f"/api/0/organizations/{slug}/").status_code == 200  # warm caches
    assert cast.session(OWNER).delete(f"{members(slug)}{alice_id}/").status_code == 204
    for client in (cast.session(ALICE), token):
        assert_error(client.get(f"/api/0/organizations/{slug}/"), 404, "not-found")
    assert slug not in {
        org["slug"] for org in cast.session(ALICE).get("/api/0/organizations/").json()
    }


def test_a_role_change_applies_to_the_next_request(cast: Cast) -> None:
    slug = cast.organization()
    alice_id = cast.join(slug, ALICE, "member")
    token = cast.token(ALICE)  # every scope; the role limits it
    rename = {"name": "Renamed"}
    url = f"/api/0/organizations/{slug}/"
    assert_error(token.put(url, json=rename), 403, "insufficient-scope", {"required": "org:write"})
    cast.session(OWNER).put(f"{members(slug)}{alice_id}/", json={"role": "manager"})
    assert token.put(url, json=rename).status_code == 200
    cast.session(OWNER).put(f"{members(slug)}{alice_id}/", json={"role": "member"})
    assert_error(token.put(url, json=rename), 403, "insufficient-scope", {"required": "org:write"})


@pytest.mark.parametrize("member_id", ["999999999", "abc", "0", "1" * 40])
def test_unknown_member_ids_are_404(cast: Cast, member_id: str) -> None:
    slug = cast.organization()
    owner = cast.session(OWNER)
    assert_error(
        owner.put(f"{members(slug)}{member_id}/", json={"role": "member"}), 404, "not-found"
    )
    assert_error(owner.delete(f"{members(slug)}{member_id}/"), 404, "not-found")


def test_a_member_of_another_organization_is_not_reachable(cast: Cast) -> None:
    mine = cast.organization()
    theirs = cast.organization(OUTSIDER)
    their_member = cast.join(theirs, ALICE, "member", owner=OUTSIDER)
    owner = cast.session(OWNER)
    url = f"{members(mine)}{their_member}/"
    assert_error(owner.put(url, json={"role": "manager"}), 404, "not-found")
    assert_error(owner.delete(url), 404, "not-found")
    listed = cast.session(OUTSIDER).get(members(theirs)).json()
    assert {item["role"] for item in listed if item["id"] == their_member} == {"member"}


def test_an_organization_token_manages_members_but_never_owners(cast: Cast, world: World) -> None:
    slug = cast.organization()
    bearer = world.bearer(world.organization_token(cast.session(OWNER), slug))
    email = cast.account(ALICE).email
    as_owner = bearer.post(members(slug), json={"email": email, "role": "owner"})
    assert_error(as_owner, 403, "forbidden", {"required_role": "owner"})
    added = bearer.post(members(slug), json={"email": email, "role": "manager"})
    assert added.status_code == 201, added.text
    assert bearer.delete(f"{members(slug)}{added.json()['id']}/").status_code == 204


def test_member_list_pages(cast: Cast) -> None:
    slug = cast.organization()
    for index, role in ((MANAGER, "manager"), (ALICE, "member"), (BOB, "member")):
        cast.join(slug, index, role)
    pages = all_pages(cast.session(OWNER), members(slug), per_page=2)
    assert [len(page) for page in pages] == [2, 2]
    ids = [item["id"] for page in pages for item in page]
    assert len(set(ids)) == 4
    assert ids == sorted(ids, key=int)
