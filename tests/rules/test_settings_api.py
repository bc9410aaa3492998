"""The finer settings through the API: validation, owner + session only, audited old and new."""

from __future__ import annotations

import pytest

from tests.support import World, assert_error, error_code


def test_owner_sets_and_reads_every_setting(rules: World) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    assert owner.get(f"/api/0/organizations/{slug}/").json()["settings"] == {
        "allow_personal_tokens": True,
        "personal_token_enforcement": "enforce",
        "personal_token_max_lifetime_days": None,
        "require_2fa": False,
        "require_sso": False,
    }
    changed = owner.put(
        f"/api/0/organizations/{slug}/",
        json={
            "settings": {
                "allow_personal_tokens": False,
                "personal_token_enforcement": "report",
                "personal_token_max_lifetime_days": 30,
            }
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["settings"]["personal_token_max_lifetime_days"] == 30
    entry = owner.get(f"/api/0/organizations/{slug}/audit-logs/?event=org.edit").json()[0]
    assert entry["data"]["changes"] == {
        "allow_personal_tokens": {"old": True, "new": False},
        "personal_token_enforcement": {"old": "enforce", "new": "report"},
        "personal_token_max_lifetime_days": {"old": None, "new": 30},
    }
    lifted = owner.put(
        f"/api/0/organizations/{slug}/",
        json={"settings": {"personal_token_max_lifetime_days": None}},
    )
    assert lifted.json()["settings"]["personal_token_max_lifetime_days"] is None


@pytest.mark.parametrize(
    "settings",
    [
        {"personal_token_max_lifetime_days": 0},
        {"personal_token_max_lifetime_days": 3651},
        {"personal_token_max_lifetime_days": "ten"},
        {"personal_token_enforcement": "warn"},
        {"allow_personal_tokens": None},
        {"require_2fa": None},
        {"personal_token_enforcement": None},
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    rules: World, settings: dict[str, object]
) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    before = owner.get(f"/api/0/organizations/{slug}/").json()
    response = owner.put(f"/api/0/organizations/{slug}/", json={"settings": settings})
    assert_error(response, 400, "invalid-request")
    assert owner.get(f"/api/0/organizations/{slug}/").json() == before


@pytest.mark.parametrize(
    "settings",
    [
        {"personal_token_enforcement": "report"},
        {"personal_token_max_lifetime_days": 7},
        {"require_2fa": False},
    ],
)
def test_only_an_owner_in_a_session_changes_settings(
    rules: World, settings: dict[str, object]
) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    manager_account = rules.user()
    rules.add_member(owner, slug, manager_account, "manager")
    manager = rules.login(manager_account)
    refused = manager.put(f"/api/0/organizations/{slug}/", json={"settings": settings})
    assert_error(refused, 403, "forbidden", {"required_role": "owner"})
    token = rules.bearer(rules.personal_token(owner))
    by_token = token.put(f"/api/0/organizations/{slug}/", json={"settings": settings})
    assert error_code(by_token) == "session-required"
