"""Organization slugs that would collide with the user's own pages are refused."""

from __future__ import annotations

from tests.support import World, assert_error, unique

ORGS = "/api/0/organizations/"


def test_the_slug_account_is_reserved_for_the_users_own_pages(world: World) -> None:
    owner = world.session()
    detail = assert_error(
        owner.post(ORGS, json={"slug": "account", "name": "Account"}), 400, "invalid-request"
    )
    assert detail["extra"]["errors"] == [
        {"field": "slug", "message": "'account' is reserved; choose another slug."}
    ]
    assert all(o["slug"] != "account" for o in owner.get(ORGS).json())
    # Only the exact name is reserved, and a project may still use it.
    slug = unique("account")
    assert owner.post(ORGS, json={"slug": slug, "name": "Fine"}).status_code == 201
    project = owner.post(f"{ORGS}{slug}/projects/", json={"slug": "account", "name": "P"})
    assert project.status_code == 201, project.text
