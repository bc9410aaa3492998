"""Organizations: create, read, rename, the owner's switch, and which ones a credential sees.

People of the shared cast: 0 owns every organization made here, 1 is made manager, 2 member,
3 stays outside."""

from __future__ import annotations

import pytest

from tests.support import Cast, World, assert_error, error_fields, unique

ORGS = "/api/0/organizations/"
OWNER, MANAGER, MEMBER, OUTSIDER = 0, 1, 2, 3


def org_url(slug: str) -> str:
    return f"{ORGS}{slug}/"


def test_creating_an_organization_makes_the_caller_its_owner(cast: Cast) -> None:
    slug = unique("org")
    response = cast.session(OWNER).post(ORGS, json={"slug": slug, "name": "Acme"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert {"id", "slug", "name", "role", "settings"} <= set(body)
    assert isinstance(body["id"], str)
    assert (body["slug"], body["name"], body["role"]) == (slug, "Acme", "owner")
    assert body["settings"]["allow_personal_tokens"] is True
    assert cast.session(OWNER).get(org_url(slug)).json() == body
    [member] = cast.session(OWNER).get(f"{org_url(slug)}members/").json()
    assert member["role"] == "owner"
    assert member["user"]["email"] == cast.account(OWNER).email


def test_a_personal_token_may_create_an_organization(cast: Cast) -> None:
    slug = unique("org")
    response = cast.token(OUTSIDER, ["org:read"]).post(ORGS, json={"slug": slug, "name": "Tok"})
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "owner"


def test_a_taken_slug_is_409(cast: Cast) -> None:
    slug = cast.organization()
    # Someone else, who cannot even see it, still may not take it.
    again = cast.session(OUTSIDER).post(ORGS, json={"slug": slug, "name": "Again"})
    assert_error(again, 409, "conflict")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["slug", "name"]),
        ({"slug": "Upper-Case", "name": "X"}, ["slug"]),
        ({"slug": "has space", "name": "X"}, ["slug"]),
        ({"slug": "", "name": "X"}, ["slug"]),
        ({"slug": "x" * 51, "name": "X"}, ["slug"]),
        ({"slug": "fine-slug", "name": ""}, ["name"]),
        ({"slug": "fine-slug", "name": "X", "owner": 1}, ["owner"]),
    ],
)
def test_invalid_organizations_are_400(
    cast: Cast, body: dict[str, object], fields: list[str]
) -> None:
    response = cast.session(OUTSIDER).post(ORGS, json=body)
    assert sorted(error_fields(response)) == sorted(fields)


def test_reading_an_organization_shows_the_callers_role(cast: Cast, world: World) -> None:
    slug = cast.organization()
    cast.join(slug, MANAGER, "manager")
    cast.join(slug, MEMBER, "member")
    for index, role in ((OWNER, "owner"), (MANAGER, "manager"), (MEMBER, "member")):
        body = cast.session(index).get(org_url(slug)).json()
        assert (body["slug"], body["role"]) == (slug, role)
        assert cast.token(index, ["org:read"]).get(org_url(slug)).json()["role"] == role
    bearer = world.bearer(world.organization_token(cast.session(OWNER), slug, ["org:read"]))
    read = bearer.get(org_url(slug))
    assert read.status_code == 200
    assert read.json()["role"] is None


def test_outsiders_get_the_same_404_as_for_a_missing_organization(cast: Cast, world: World) -> None:
    allowing = cast.organization()
    denying = cast.organization(allow_personal_tokens=False)
    other = cast.organization(OUTSIDER)
    foreign_token = world.bearer(world.organization_token(cast.session(OUTSIDER), other))
    missing = unique("missing")
    callers = [cast.session(OUTSIDER), cast.token(OUTSIDER), foreign_token]
    reference = assert_error(callers[0].get(org_url(missing)), 404, "not-found")
    for caller in callers:
        for slug in (missing, allowing, denying):
            for method, suffix in (("GET", ""), ("PUT", ""), ("GET", "members/")):
                response = caller.request(method, org_url(slug) + suffix, json={"name": "x"})
                assert assert_error(response, 404, "not-found") == reference
                assert slug not in response.text


def test_a_manager_may_rename_but_not_change_settings(cast: Cast) -> None:
    slug = cast.organization()
    cast.join(slug, MANAGER, "manager")
    manager = cast.session(MANAGER)
    renamed = manager.put(org_url(slug), json={"name": "New name"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "New name"
    assert renamed.json()["role"] == "manager"

    refused = manager.put(org_url(slug), json={"settings": {"allow_personal_tokens": False}})
    assert_error(refused, 403, "forbidden", {"required_role": "owner"})
    both = manager.put(
        org_url(slug), json={"name": "Sneaky", "settings": {"allow_personal_tokens": False}}
    )
    assert_error(both, 403, "forbidden", {"required_role": "owner"})
    after = cast.session(OWNER).get(org_url(slug)).json()
    assert after["name"] == "New name"
    assert after["settings"]["allow_personal_tokens"] is True


def test_a_member_may_change_nothing(cast: Cast) -> None:
    slug = cast.organization()
    cast.join(slug, MEMBER, "member")
    member = cast.session(MEMBER)
    for body in ({"name": "Mine"}, {"settings": {"allow_personal_tokens": False}}):
        refused = member.put(org_url(slug), json=body)
        assert_error(refused, 403, "insufficient-scope", {"required": "org:write"})


def test_only_an_owner_session_may_change_settings(cast: Cast, world: World) -> None:
    slug = cast.organization()
    owner_token = cast.token(OWNER)
    org_token = world.bearer(world.organization_token(cast.session(OWNER), slug))
    body = {"settings": {"allow_personal_tokens": False}}
    assert_error(owner_token.put(org_url(slug), json=body), 403, "session-required")
    assert_error(org_token.put(org_url(slug), json=body), 403, "session-required")
    # Tokens may still rename.
    assert owner_token.put(org_url(slug), json={"name": "By token"}).status_code == 200
    assert org_token.put(org_url(slug), json={"name": "By org token"}).status_code == 200

    flipped = cast.session(OWNER).put(org_url(slug), json=body)
    assert flipped.status_code == 200
    assert flipped.json()["settings"]["allow_personal_tokens"] is False
    assert flipped.json()["name"] == "By org token"
    back = cast.session(OWNER).put(
        org_url(slug), json={"settings": {"allow_personal_tokens": True}}
    )
    assert back.json()["settings"]["allow_personal_tokens"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": 7}, "name"),
        ({"settings": {"allow_personal_tokens": "maybe"}}, "settings.allow_personal_tokens"),
        ({"settings": {"require_everything": True}}, "settings.require_everything"),
        ({"slug": "renamed"}, "slug"),
    ],
)
def test_invalid_updates_are_400(cast: Cast, body: dict[str, object], field: str) -> None:
    slug = cast.organization()
    response = cast.session(OWNER).put(org_url(slug), json=body)
    assert error_fields(response) == [field]


def test_the_list_hides_denying_organizations_from_personal_tokens(cast: Cast) -> None:
    allowing = cast.organization()
    denying = cast.organization(allow_personal_tokens=False)
    cast.join(allowing, MEMBER, "member")
    cast.join(denying, MEMBER, "member")
    by_session = cast.session(MEMBER).get(ORGS)
    assert by_session.status_code == 200
    listed = {org["slug"]: org for org in by_session.json()}
    assert {allowing, denying} <= set(listed)
    assert listed[denying]["settings"]["allow_personal_tokens"] is False
    assert listed[allowing]["role"] == "member"
    assert {"id", "slug", "name", "role", "settings"} <= set(listed[allowing])

    by_token = {org["slug"] for org in cast.token(MEMBER, ["org:read"]).get(ORGS).json()}
    assert allowing in by_token
    assert denying not in by_token
    assert all(slug in listed for slug in by_token)

    by_outsider = {org["slug"] for org in cast.session(OUTSIDER).get(ORGS).json()}
    assert not {allowing, denying} & by_outsider


def test_an_organization_token_sees_only_its_own_organization(cast: Cast, world: World) -> None:
    slug = cast.organization()
    cast.organization()  # the owner has others; the token must not see them
    bearer = world.bearer(world.organization_token(cast.session(OWNER), slug, ["org:read"]))
    response = bearer.get(ORGS)
    assert response.status_code == 200
    [only] = response.json()
    assert (only["slug"], only["role"]) == (slug, None)


def test_a_denying_organization_is_still_listed_for_its_own_token(cast: Cast, world: World) -> None:
    slug = cast.organization(allow_personal_tokens=False)
    bearer = world.bearer(world.organization_token(cast.session(OWNER), slug, ["org:read"]))
    assert [org["slug"] for org in bearer.get(ORGS).json()] == [slug]
