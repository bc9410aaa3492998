"""Report mode lets personal tokens through with a header and counts them; the lifetime limit
refuses tokens that never expire or live too long, old and new alike."""

from __future__ import annotations

import datetime as dt

from tests.support import World, assert_error, eventually


def _later(days: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()


def test_report_mode_allows_with_a_header_and_counts_would_be_denials(rules: World) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    token = rules.bearer(rules.personal_token(member.session, ["org:read"]))
    owner.put(
        f"/api/0/organizations/{slug}/",
        json={"settings": {"allow_personal_tokens": False, "personal_token_enforcement": "report"}},
    )
    passed = token.get(f"/api/0/organizations/{slug}/")
    assert passed.status_code == 200
    assert passed.headers["Tokenward-Report-Only"] == "personal-token-denied"
    assert (
        "Tokenward-Report-Only" not in member.session.get(f"/api/0/organizations/{slug}/").headers
    )

    owner.put(
        f"/api/0/organizations/{slug}/",
        json={"settings": {"personal_token_enforcement": "enforce"}},
    )
    assert_error(token.get(f"/api/0/organizations/{slug}/"), 403, "personal-token-denied")

    def counted() -> bool:
        usage = owner.get(f"/api/0/organizations/{slug}/personal-token-usage/").json()
        totals: dict[str, int] = usage["totals"]["requests"]
        return totals == {"allowed": 1, "denied": 1, "would_be_denied": 1}

    assert eventually(counted)


def test_lifetime_limit_applies_to_existing_and_new_tokens(rules: World) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    forever = rules.bearer(rules.personal_token(member.session, ["org:read"]))
    month = rules.bearer(rules.personal_token(member.session, ["org:read"], expires_at=_later(30)))
    week = rules.bearer(rules.personal_token(member.session, ["org:read"], expires_at=_later(6)))
    owner.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"personal_token_max_lifetime_days": 7}}
    )
    for refused in (forever, month):
        detail = assert_error(
            refused.get(f"/api/0/organizations/{slug}/"), 403, "personal-token-lifetime-exceeded"
        )
        assert detail["extra"]["max_lifetime_days"] == 7
        assert "7 days" in detail["message"]
    assert week.get(f"/api/0/organizations/{slug}/").status_code == 200
    # Elsewhere the same long-lived token still works.
    other = rules.organization(member.session)
    assert forever.get(f"/api/0/organizations/{other}/").status_code == 200
