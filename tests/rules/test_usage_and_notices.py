"""Usage an owner reads before acting, the count of people who will be told, and the notices."""

from __future__ import annotations

import datetime as dt

from tests.mailbox import Mailbox
from tests.rules.conftest import queued_to
from tests.support import World, assert_error, eventually


def test_usage_report_per_token_with_daily_series_and_proposed_impact(rules: World) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    alice, bob = rules.member(owner, slug), rules.member(owner, slug)
    a_token = rules.bearer(rules.personal_token(alice.session, ["org:read"]))
    rules.personal_token(bob.session, ["org:read"])  # never used here: not in the usage
    for _ in range(3):
        assert a_token.get(f"/api/0/organizations/{slug}/").status_code == 200
    path = f"/api/0/organizations/{slug}/personal-token-usage/"

    def seen() -> bool:
        tokens = owner.get(path).json()["tokens"]
        return len(tokens) == 1 and tokens[0]["allowed"] == 3

    assert eventually(seen)
    report = owner.get(path, params={"days": 7, "allow_personal_tokens": "false"}).json()
    assert report["days"] == 7 and len(report["series"]) == 7
    assert report["series"][-1]["date"] == dt.datetime.now(dt.UTC).date().isoformat()
    assert report["series"][-1]["allowed"] == 3
    token = report["tokens"][0]
    assert token["user"]["email"] == alice.account.email
    assert token["current_standing"] == "allowed"
    assert token["proposed_standing"] == "denied-by-policy"
    assert token["daily"][0]["allowed"] == 3
    assert report["totals"]["current_policy_affects"] == {"tokens": 0, "members": 0}
    assert report["totals"]["proposed_policy_affects"] == {"tokens": 1, "members": 1}
    assert report["totals"]["members_to_notify"] == 1
    assert report["proposed"]["allow_personal_tokens"] is False
    assert report["settings"]["allow_personal_tokens"] is True

    assert_error(owner.get(path, params={"days": 91}), 400, "invalid-request")
    assert_error(alice.session.get(path), 403, "insufficient-scope")


def test_moving_to_deny_tells_each_recent_user_once(rules: World, mailbox: Mailbox) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    alice, carol = rules.member(owner, slug), rules.member(owner, slug)
    first = rules.personal_token(alice.session, ["org:read"])
    second = rules.personal_token(alice.session, ["org:read"])
    for secret in (first, second):
        assert rules.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200
    rules.personal_token(carol.session, ["org:read"])  # unused here: carol is not told
    usage = f"/api/0/organizations/{slug}/personal-token-usage/"
    assert eventually(lambda: len(owner.get(usage).json()["tokens"]) == 2)
    preview = owner.get(usage, params={"allow_personal_tokens": "false"}).json()
    assert preview["totals"]["members_to_notify"] == 1

    flipped = owner.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}}
    )
    assert flipped.status_code == 200
    assert eventually(lambda: len(mailbox.to(alice.account.email)) == 1)
    email = mailbox.to(alice.account.email)[0]
    assert slug in email.body and first[-4:] in email.body and second[-4:] in email.body
    assert "Personal API tokens: allowed → denied" in email.body
    assert "organization token" in email.body
    assert first not in email.body and second not in email.body
    assert mailbox.to(carol.account.email) == []
    entry = owner.get(f"/api/0/organizations/{slug}/audit-logs/?event=org.edit").json()[0]
    assert entry["data"]["members_notified"] == 1

    # Loosening again tells nobody.
    assert len(queued_to(rules, alice.account.email)) == 1
    loosened = owner.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": True}}
    )
    assert loosened.status_code == 200
    assert len(queued_to(rules, alice.account.email)) == 1
    loosening = owner.get(f"/api/0/organizations/{slug}/audit-logs/?event=org.edit").json()[0]
    assert loosening["data"]["changes"]["allow_personal_tokens"] == {"old": False, "new": True}
    assert "members_notified" not in loosening["data"]
