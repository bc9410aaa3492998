from tests.support import World, error_code


def test_owner_flips_switch_and_member_token_is_denied(world: World) -> None:
    owner = world.session("Owner")
    member_account = world.user("Member")
    slug = world.organization(owner)
    world.add_member(owner, slug, member_account, "member")
    member = world.login(member_account)
    project_id = world.project(owner, slug)
    token = world.personal_token(member, ["org:read", "project:read"])
    bearer = world.bearer(token)
    assert bearer.get(f"/api/0/projects/{project_id}/").status_code == 200

    flipped = owner.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}}
    )
    assert flipped.status_code == 200

    denied = bearer.get(f"/api/0/projects/{project_id}/")
    assert denied.status_code == 403
    assert error_code(denied) == "personal-token-denied"
    assert denied.json()["detail"]["extra"] == {"organization": slug}
    assert member.get(f"/api/0/projects/{project_id}/").status_code == 200
