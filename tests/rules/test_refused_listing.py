"""Personal tokens an organization refuses: the organization list never shows them one its rules
refuse (whatever the second-factor state), and only an owner cuts off an owner's token."""

from __future__ import annotations

from tests.rules.test_two_factor import enrol, login, next_code
from tests.support import ApiClient, World, assert_error


def _slugs(client: ApiClient) -> set[str]:
    response = client.get("/api/0/organizations/")
    assert response.status_code == 200, response.text
    return {organization["slug"] for organization in response.json()}


def _token_id(session: ApiClient, token: str) -> str:
    listed = session.get("/api/0/users/me/tokens/").json()
    return str(next(t["id"] for t in listed if t["token_last_characters"] == token[-4:]))


def test_a_refused_token_is_not_shown_the_organization_whatever_its_two_factor_state(
    world: World,
) -> None:
    owner_account = world.user()
    secret = enrol(world.login(owner_account))
    owner = login(world, owner_account, next_code(secret))
    denying = world.organization(owner)
    revoking = world.organization(owner)
    allowing = world.organization(owner)
    member = world.user()
    for slug in (denying, revoking, allowing):
        world.add_member(owner, slug, member, "member")
    session = world.login(member)
    secret_token = world.personal_token(session, ["org:read"])
    token = world.bearer(secret_token)
    assert {denying, revoking, allowing} <= _slugs(token)

    cut = owner.delete(
        f"/api/0/organizations/{revoking}/personal-tokens/{_token_id(session, secret_token)}/"
    )
    assert cut.status_code == 204, cut.text
    settings = {"allow_personal_tokens": False}
    assert owner.put(f"/api/0/organizations/{denying}/", json={"settings": settings}).is_success
    for slug in (denying, revoking, allowing):
        required = owner.put(
            f"/api/0/organizations/{slug}/", json={"settings": {"require_2fa": True}}
        )
        assert required.status_code == 200, required.text

    listed = _slugs(token)
    assert allowing in listed  # needs a second factor: listed, and entering it says why
    assert denying not in listed and revoking not in listed
    assert {denying, revoking, allowing} <= _slugs(session)  # the session is not refused


def test_only_an_owner_cuts_an_owners_token_off_from_the_organization(world: World) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    second_owner = world.member(owner, slug, "owner")
    manager = world.member(owner, slug, "manager")
    member = world.member(owner, slug, "member")
    owners_token = world.personal_token(second_owner.session, ["org:read"])
    members_token = world.personal_token(member.session, ["org:read"])
    path = f"/api/0/organizations/{slug}/personal-tokens/"

    refused = manager.session.delete(path + _token_id(second_owner.session, owners_token) + "/")
    assert_error(refused, 403, "forbidden", {"required_role": "owner"})
    assert world.bearer(owners_token).get(f"/api/0/organizations/{slug}/").status_code == 200
    cut = manager.session.delete(path + _token_id(member.session, members_token) + "/")
    assert cut.status_code == 204, cut.text
    by_owner = owner.delete(path + _token_id(second_owner.session, owners_token) + "/")
    assert by_owner.status_code == 204, by_owner.text
