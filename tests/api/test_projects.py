"""Projects, by organization slug and by id, where the organization is known only after the
project is loaded: the same gate, the same 404 for outsiders. Cast: 0 owns, 1 manager, 2 member,
3 outside."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support import Cast, World, all_pages, assert_error, error_fields, next_link, unique

OWNER, MANAGER, MEMBER, OUTSIDER = 0, 1, 2, 3


def projects(slug: str) -> str:
    return f"/api/0/organizations/{slug}/projects/"


def project(project_id: str) -> str:
    return f"/api/0/projects/{project_id}/"


def test_project_lifecycle(cast: Cast) -> None:
    slug = cast.organization()
    owner = cast.session(OWNER)
    project_slug = unique("proj")
    created = owner.post(projects(slug), json={"slug": project_slug, "name": "Web"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert {"id", "slug", "name", "organization", "created_at"} <= set(body)
    assert (body["slug"], body["name"], body["organization"]) == (project_slug, "Web", slug)
    assert isinstance(body["id"], str)
    created_at = dt.datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
    assert created_at.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - created_at) < dt.timedelta(minutes=5)

    assert owner.get(project(body["id"])).json() == body
    assert owner.get(projects(slug)).json() == [body]

    renamed = owner.put(project(body["id"]), json={"name": "Website"})
    assert renamed.status_code == 200
    assert renamed.json() == {**body, "name": "Website"}

    deleted = owner.delete(project(body["id"]))
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(owner.get(project(body["id"])), 404, "not-found")
    assert_error(owner.delete(project(body["id"])), 404, "not-found")
    assert owner.get(projects(slug)).json() == []


def test_a_taken_project_slug_is_409_but_only_within_the_organization(cast: Cast) -> None:
    first, second = cast.organization(), cast.organization()
    owner = cast.session(OWNER)
    project_slug = unique("proj")
    assert owner.post(projects(first), json={"slug": project_slug, "name": "A"}).status_code == 201
    again = owner.post(projects(first), json={"slug": project_slug, "name": "B"})
    assert_error(again, 409, "conflict")
    elsewhere = owner.post(projects(second), json={"slug": project_slug, "name": "C"})
    assert elsewhere.status_code == 201


def test_members_write_projects_but_only_managers_delete_them(cast: Cast) -> None:
    slug = cast.organization()
    cast.join(slug, MEMBER, "member")
    cast.join(slug, MANAGER, "manager")
    member = cast.session(MEMBER)
    project_id = cast.world.project(member, slug)
    assert member.put(project(project_id), json={"name": "Mine"}).status_code == 200
    refused = member.delete(project(project_id))
    assert_error(refused, 403, "insufficient-scope", {"required": "project:admin"})
    assert cast.session(MANAGER).delete(project(project_id)).status_code == 204


def test_personal_token_scopes_are_limited_by_scope_and_role(cast: Cast) -> None:
    slug = cast.organization()
    cast.join(slug, MEMBER, "member")
    project_id = cast.world.project(cast.session(OWNER), slug)
    reader = cast.token(MEMBER, ["project:read"])
    assert reader.get(project(project_id)).status_code == 200
    assert reader.get(projects(slug)).status_code == 200
    write = reader.put(project(project_id), json={"name": "x"})
    assert_error(write, 403, "insufficient-scope", {"required": "project:write"})
    everything = cast.token(MEMBER)  # project:admin in the token, not in the member role
    admin = everything.delete(project(project_id))
    assert_error(admin, 403, "insufficient-scope", {"required": "project:admin"})
    assert cast.token(OWNER, ["project:admin"]).delete(project(project_id)).status_code == 204


def test_outsiders_get_the_same_404_as_for_a_missing_project(cast: Cast, world: World) -> None:
    allowing = cast.organization()
    denying = cast.organization(allow_personal_tokens=False)
    ids = [cast.world.project(cast.session(OWNER), slug) for slug in (allowing, denying)]
    foreign = world.bearer(
        world.organization_token(cast.session(OUTSIDER), cast.organization(OUTSIDER))
    )
    reference = assert_error(cast.session(OUTSIDER).get(project("999999999")), 404, "not-found")
    for caller in (cast.session(OUTSIDER), cast.token(OUTSIDER), foreign):
        for project_id in [*ids, "999999999", "abc", "1" * 40]:
            for method in ("GET", "PUT", "DELETE"):
                response = caller.request(method, project(project_id), json={"name": "x"})
                assert assert_error(response, 404, "not-found") == reference
    for project_id in ids:
        assert cast.session(OWNER).get(project(project_id)).json()["name"] == "P"


def test_the_switch_reaches_projects_by_id(cast: Cast, world: World) -> None:
    slug = cast.organization()
    cast.join(slug, MEMBER, "member")
    project_id = cast.world.project(cast.session(OWNER), slug)
    token = cast.token(MEMBER, ["project:read", "project:write"])
    org_token = world.bearer(world.organization_token(cast.session(OWNER), slug, ["project:read"]))
    assert token.get(project(project_id)).status_code == 200
    cast.session(OWNER).put(
        f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}}
    )
    for method in ("GET", "PUT"):
        denied = token.request(method, project(project_id), json={"name": "x"})
        assert_error(denied, 403, "personal-token-denied", {"organization": slug})
    assert org_token.get(project(project_id)).status_code == 200
    assert cast.session(MEMBER).get(project(project_id)).status_code == 200
    assert cast.session(OWNER).get(project(project_id)).json()["name"] == "P"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["slug", "name"]),
        ({"slug": "Bad Slug", "name": "x"}, ["slug"]),
        ({"slug": "ok", "name": " "}, ["name"]),
        ({"slug": "ok", "name": "x", "organization": "other"}, ["organization"]),
    ],
)
def test_invalid_projects_are_400(cast: Cast, body: dict[str, object], fields: list[str]) -> None:
    slug = cast.organization()
    response = cast.session(OWNER).post(projects(slug), json=body)
    assert sorted(error_fields(response)) == sorted(fields)


def test_invalid_renames_are_400(cast: Cast) -> None:
    slug = cast.organization()
    project_id = cast.world.project(cast.session(OWNER), slug)
    for body, field in (({}, "name"), ({"name": ""}, "name"), ({"slug": "x", "name": "y"}, "slug")):
        response = cast.session(OWNER).put(project(project_id), json=body)
        assert error_fields(response) == [field]


def test_project_list_pages_with_next_links(cast: Cast) -> None:
    slug = cast.organization()
    made = [cast.world.project(cast.session(OWNER), slug) for _ in range(5)]
    pages = all_pages(cast.session(OWNER), projects(slug), per_page=2)
    assert [[item["id"] for item in page] for page in pages] == [made[:2], made[2:4], made[4:]]
    # A page that ends exactly at the last item has no next link.
    exact = cast.session(OWNER).get(f"{projects(slug)}?per_page=5")
    assert len(exact.json()) == 5
    assert next_link(exact) is None


def test_lists_hold_at_most_100_items(cast: Cast) -> None:
    slug = cast.organization()
    made = [cast.world.project(cast.session(OWNER), slug) for _ in range(101)]
    first = cast.session(OWNER).get(projects(slug))
    assert [item["id"] for item in first.json()] == made[:100]
    link = next_link(first)
    assert link is not None
    second = cast.session(OWNER).get(link)
    assert [item["id"] for item in second.json()] == made[100:]
    assert next_link(second) is None
    too_many = cast.session(OWNER).get(f"{projects(slug)}?per_page=101")
    assert error_fields(too_many) == ["per_page"]
