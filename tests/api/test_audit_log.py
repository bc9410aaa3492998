"""The audit log: every event of docs/api.md, newest first, with actor, address and data, never a
secret; readable with org:write. Cast: 0 owns, 1 manager, 2 member."""

from __future__ import annotations

from typing import Any

from tests.support import Cast, World, all_pages, assert_error, error_fields, unique

OWNER, MANAGER, MEMBER = 0, 1, 2


def audit(slug: str) -> str:
    return f"/api/0/organizations/{slug}/audit-logs/"


def entries(cast: Cast, slug: str, query: str = "") -> list[dict[str, Any]]:
    response = cast.session(OWNER).get(audit(slug) + query)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_every_event_is_logged_newest_first_with_actor_address_and_data(
    cast: Cast, world: World
) -> None:
    slug = cast.organization()
    owner = cast.session(OWNER)
    org_url = f"/api/0/organizations/{slug}/"
    assert owner.put(org_url, json={"name": "Renamed"}).status_code == 200
    assert (
        owner.put(org_url, json={"settings": {"allow_personal_tokens": False}}).status_code == 200
    )
    member_id = cast.join(slug, MEMBER, "member")
    owner.put(f"{org_url}members/{member_id}/", json={"role": "manager"})
    owner.delete(f"{org_url}members/{member_id}/")
    created = owner.post(f"{org_url}tokens/", json={"name": "robot", "scopes": ["project:write"]})
    token = created.json()
    robot = world.bearer(token["token"])
    project_slug = unique("proj")
    project = robot.post(f"{org_url}projects/", json={"slug": project_slug, "name": "Web"}).json()
    robot.put(f"/api/0/projects/{project['id']}/", json={"name": "Website"})
    owner.delete(f"/api/0/projects/{project['id']}/")
    owner.delete(f"{org_url}tokens/{token['id']}/")

    log = entries(cast, slug)
    assert [entry["event"] for entry in log] == [
        "org-token.revoke",
        "project.remove",
        "project.edit",
        "project.create",
        "org-token.create",
        "member.remove",
        "member.edit",
        "member.add",
        "org.edit",
        "org.edit",
        "org.create",
    ]
    by_event = {entry["event"]: entry for entry in reversed(log)}  # the first of each
    ids = [int(entry["id"]) for entry in log]
    assert ids == sorted(ids, reverse=True)
    me = owner.get("/api/0/users/me/").json()
    for entry in log:
        assert {"id", "event", "actor", "ip_address", "created_at", "data"} <= set(entry)
        assert entry["ip_address"] == "127.0.0.1"
        assert token["token"] not in str(entry)
        if entry["event"] in ("project.create", "project.edit"):
            assert entry["actor"] == {"type": "org_token", "id": token["id"], "name": "robot"}
        else:
            assert entry["actor"] == {"type": "user", "id": me["id"], "name": me["name"]}

    edits = [entry["data"]["changes"] for entry in log if entry["event"] == "org.edit"]
    assert edits[1]["name"] == {"old": slug.title(), "new": "Renamed"}
    assert edits[0] == {"allow_personal_tokens": {"old": True, "new": False}}
    assert by_event["org.create"]["data"]["slug"] == slug
    assert by_event["member.add"]["data"]["role"] == "member"
    assert by_event["member.add"]["data"]["email"] == cast.account(MEMBER).email
    assert by_event["member.edit"]["data"]["changes"] == {
        "role": {"old": "member", "new": "manager"}
    }
    assert by_event["member.remove"]["data"]["member_id"] == member_id
    assert by_event["org-token.create"]["data"]["token_last_characters"] == token["token"][-4:]
    assert by_event["org-token.create"]["data"]["scopes"] == ["project:write"]
    assert by_event["org-token.revoke"]["data"]["token_id"] == token["id"]
    assert by_event["project.create"]["data"]["slug"] == project_slug
    assert by_event["project.edit"]["data"]["changes"] == {"name": {"old": "Web", "new": "Website"}}
    assert by_event["project.remove"]["data"]["project_id"] == project["id"]


def test_unchanged_updates_log_nothing(cast: Cast) -> None:
    slug = cast.organization()
    owner = cast.session(OWNER)
    url = f"/api/0/organizations/{slug}/"
    owner.put(url, json={"name": slug.title(), "settings": {"allow_personal_tokens": True}})
    assert [entry["event"] for entry in entries(cast, slug)] == ["org.create"]


def test_one_edit_logs_every_changed_field(cast: Cast) -> None:
    slug = cast.organization()
    cast.session(OWNER).put(
        f"/api/0/organizations/{slug}/",
        json={"name": "Both", "settings": {"allow_personal_tokens": False}},
    )
    [edit, _] = entries(cast, slug)
    assert edit["data"]["changes"] == {
        "name": {"old": slug.title(), "new": "Both"},
        "allow_personal_tokens": {"old": True, "new": False},
    }


def test_reading_the_log_needs_org_write(cast: Cast, world: World) -> None:
    slug = cast.organization()
    cast.join(slug, MANAGER, "manager")
    cast.join(slug, MEMBER, "member")
    required = {"required": "org:write"}
    assert cast.session(MANAGER).get(audit(slug)).status_code == 200
    assert_error(cast.session(MEMBER).get(audit(slug)), 403, "insufficient-scope", required)
    reader = cast.token(OWNER, ["org:read"])
    assert_error(reader.get(audit(slug)), 403, "insufficient-scope", required)
    assert cast.token(OWNER, ["org:write"]).get(audit(slug)).status_code == 200
    owner = cast.session(OWNER)
    assert (
        world.bearer(world.organization_token(owner, slug, ["org:write"]))
        .get(audit(slug))
        .status_code
        == 200
    )
    narrow = world.bearer(world.organization_token(owner, slug, ["org:read"]))
    assert_error(narrow.get(audit(slug)), 403, "insufficient-scope", required)


def test_the_log_pages_newest_first_and_filters_by_event(cast: Cast) -> None:
    slug = cast.organization()
    for index in range(4):
        cast.session(OWNER).put(f"/api/0/organizations/{slug}/", json={"name": f"Name {index}"})
    pages = all_pages(cast.session(OWNER), audit(slug), per_page=2)
    assert [len(page) for page in pages] == [2, 2, 1]
    flat = [entry for page in pages for entry in page]
    assert flat == entries(cast, slug)
    assert flat[0]["data"]["changes"]["name"]["new"] == "Name 3"
    assert flat[-1]["event"] == "org.create"
    only = entries(cast, slug, "?event=org.create")
    assert [entry["event"] for entry in only] == ["org.create"]
    assert error_fields(cast.session(OWNER).get(audit(slug) + "?event=NOT%20AN%20EVENT")) == [
        "event"
    ]


def test_another_organizations_log_is_not_found(cast: Cast) -> None:
    slug = cast.organization()
    other = cast.organization(MANAGER)
    assert_error(cast.session(MEMBER).get(audit(slug)), 404, "not-found")
    assert all(
        entry["event"] != "org.create" or entry["data"]["slug"] == slug
        for entry in entries(cast, slug)
    )
    assert_error(cast.session(OWNER).get(audit(other)), 404, "not-found")
