"""A session counts as two-factor only when it proved a code: at sign-in, or by confirming the
authenticator itself. Sessions opened before the user enrolled do not."""

from __future__ import annotations

from tests.rules.test_two_factor import enrol, login, next_code
from tests.support import World, assert_error


def test_a_session_opened_before_enrolment_is_not_two_factor(world: World) -> None:
    owner = world.session("Owner")
    enrol(owner)  # the enrolling session proved a code: it may require two-factor
    slug = world.organization(owner)
    account = world.user()
    world.add_member(owner, slug, account, "member")
    required = owner.put(f"/api/0/organizations/{slug}/", json={"settings": {"require_2fa": True}})
    assert required.status_code == 200, required.text

    earlier = world.login(account)  # say, a laptop left signed in
    enrolling = world.login(account)
    secret = enrol(enrolling)
    assert enrolling.get(f"/api/0/organizations/{slug}/").status_code == 200
    assert_error(earlier.get(f"/api/0/organizations/{slug}/"), 401, "2fa-required")
    again = login(world, account, next_code(secret))
    assert again.get(f"/api/0/organizations/{slug}/").status_code == 200


def test_requiring_two_factor_needs_a_two_factor_session(world: World) -> None:
    account = world.user()
    earlier = world.login(account)
    enrolling = world.login(account)
    enrol(enrolling)
    slug = world.organization(earlier)
    refused = earlier.put(f"/api/0/organizations/{slug}/", json={"settings": {"require_2fa": True}})
    assert_error(refused, 400, "invalid-request")
    assert "sign in again" in refused.text
    allowed = enrolling.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"require_2fa": True}}
    )
    assert allowed.status_code == 200, allowed.text
