"""Notices say plainly what a change means for the person reading it."""

from __future__ import annotations

from tests.mailbox import Mailbox
from tests.support import World, eventually


def test_report_only_says_nothing_breaks_yet(rules: World, mailbox: Mailbox) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    secret = rules.personal_token(member.session, ["org:read"])
    assert rules.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200
    usage = f"/api/0/organizations/{slug}/personal-token-usage/"
    assert eventually(lambda: len(owner.get(usage).json()["tokens"]) == 1)

    report = {"allow_personal_tokens": False, "personal_token_enforcement": "report"}
    assert owner.put(f"/api/0/organizations/{slug}/", json={"settings": report}).status_code == 200
    reported = mailbox.wait_for(member.account.email)[0]
    assert "Nothing breaks yet" in reported.body
    assert "report-only mode" in reported.body

    enforce = {"personal_token_enforcement": "enforce"}
    assert owner.put(f"/api/0/organizations/{slug}/", json={"settings": enforce}).status_code == 200
    enforced = mailbox.wait_for(member.account.email, count=2)[1]
    assert "Nothing breaks yet" not in enforced.body
    assert secret[-4:] in enforced.body and secret not in enforced.body
