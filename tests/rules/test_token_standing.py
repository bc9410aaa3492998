"""A member's own token list says where each token works, as the gate would judge it."""

from __future__ import annotations

from typing import Any

from tests.support import ApiClient, World, assert_error


def _standings(session: ApiClient, name: str) -> dict[str, dict[str, Any]]:
    tokens = session.get("/api/0/users/me/tokens/").json()
    token = next(t for t in tokens if t["name"] == name)
    return {entry["slug"]: entry for entry in token["organizations"]}


def test_each_token_lists_its_standing_in_every_organization(rules: World) -> None:
    owner = rules.login(rules.user())
    works = rules.organization(owner)
    denies = rules.organization(owner, allow_personal_tokens=False)
    reports = rules.organization(
        owner, allow_personal_tokens=False, personal_token_enforcement="report"
    )
    limits = rules.organization(owner, personal_token_max_lifetime_days=30)
    revokes = rules.organization(owner)
    member = rules.member(owner, works)
    for slug in (denies, reports, limits, revokes):
        rules.add_member(owner, slug, member.account, "member")
    created = member.session.post(
        "/api/0/users/me/tokens/", json={"name": "laptop", "scopes": ["org:read"]}
    )
    assert created.status_code == 201
    # The new token's own answer already says where it will be refused.
    assert {e["slug"]: e["standing"] for e in created.json()["organizations"]}[denies] == (
        "denied-by-policy"
    )
    secret = created.json()["token"]
    token_id = created.json()["id"]
    revoked = owner.delete(f"/api/0/organizations/{revokes}/personal-tokens/{token_id}/")
    assert revoked.status_code == 204, revoked.text

    standings = _standings(member.session, "laptop")
    assert {slug: e["standing"] for slug, e in standings.items()} == {
        works: "allowed",
        denies: "denied-by-policy",
        reports: "allowed",
        limits: "lifetime-exceeded",
        revokes: "revoked-here",
    }
    assert standings[reports]["would_be"] == "denied-by-policy"
    assert standings[denies]["code"] == "personal-token-denied"
    assert standings[works]["code"] is None and standings[works]["would_be"] is None
    assert standings[works]["name"] == works.title()

    # What the list says is what the gate answers.
    bearer = rules.bearer(secret)
    assert bearer.get(f"/api/0/organizations/{works}/").status_code == 200
    assert bearer.get(f"/api/0/organizations/{reports}/").status_code == 200
    assert_error(bearer.get(f"/api/0/organizations/{denies}/"), 403, "personal-token-denied")
    assert_error(
        bearer.get(f"/api/0/organizations/{limits}/"), 403, "personal-token-lifetime-exceeded"
    )
    assert_error(bearer.get(f"/api/0/organizations/{revokes}/"), 403, "personal-token-revoked")
