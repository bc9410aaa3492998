"""The organization list never shows a personal token an organization its personal-token rules
refuse, even when the organization also requires a second factor the user lacks."""

from __future__ import annotations

from tests.rules.test_two_factor import enrol, login, next_code
from tests.support import World


def _slugs(client) -> set[str]:  # type: ignore[no-untyped-def]
    response = client.get("/api/0/organizations/")
    assert response.status_code == 200, response.text
    return {organization["slug"] for organization in response.json()}


def _token_id(session, token: str) -> str:  # type: ignore[no-untyped-def]
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
