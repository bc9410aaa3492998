"""Edges found in review: each was a 500, a leak or a rule applied unevenly."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.rules.test_two_factor import enrol
from tests.support import World, assert_error, error_code, eventually
from tokenward.actions.organization_rules import tightens
from tokenward.policy import Enforcement, OrganizationPolicy


def test_the_security_page_shows_token_usage_to_managers_and_owners_only(rules: World) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    manager = rules.member(owner, slug, "manager")
    member, other = rules.member(owner, slug), rules.member(owner, slug)
    secret = rules.personal_token(other.session, ["org:read"])
    assert rules.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200
    usage = f"/api/0/organizations/{slug}/personal-token-usage/"
    assert eventually(lambda: len(owner.get(usage).json()["tokens"]) == 1)
    page = f"/settings/{slug}/security/"
    assert other.account.email in manager.session.get(page).text
    seen_by_member = member.session.get(page)
    assert seen_by_member.status_code == 200
    assert other.account.email not in seen_by_member.text
    assert secret[-4:] not in seen_by_member.text


def test_an_outsiders_requests_are_not_usage_of_the_organization(rules: World) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    outsider = rules.bearer(rules.personal_token(rules.session(), ["org:read"]))
    for _ in range(3):
        assert_error(outsider.get(f"/api/0/organizations/{slug}/"), 404, "not-found")
    inside = rules.bearer(rules.personal_token(member.session, ["org:read"]))
    assert inside.get(f"/api/0/organizations/{slug}/").status_code == 200
    usage = f"/api/0/organizations/{slug}/personal-token-usage/"
    assert eventually(lambda: len(owner.get(usage).json()["tokens"]) == 1)
    assert owner.get(usage).json()["tokens"][0]["user"]["email"] == member.account.email


def test_sign_in_takes_json_only_so_no_other_site_can_sign_a_browser_in(rules: World) -> None:
    account = rules.user()
    forged = rules.anonymous().post(
        "/api/0/auth/login/",
        content=f'{{"email": "{account.email}", "password": "{account.password}"}}',
        headers={"Content-Type": "text/plain"},
    )
    assert_error(forged, 400, "invalid-request")
    assert "set-cookie" not in forged.headers


def test_odd_headers_never_answer_500(rules: World) -> None:
    session = rules.session()
    long_number = session.get("/healthz", headers={"X-Anything": "1" * 5000})
    assert long_number.status_code == 200
    accented = session.post(
        "/api/0/auth/logout/",
        headers={"X-CSRF-Token": "é".encode("latin-1")},
    )
    assert_error(accented, 403, "csrf-failed")


def test_out_of_range_values_are_refused_not_crashed(rules: World) -> None:
    session = rules.session()
    slug = rules.organization(session)
    far = session.post(
        "/api/0/users/me/tokens/",
        json={"name": "far", "scopes": ["org:read"], "expires_at": "9999-12-31T23:00:00-12:00"},
    )
    assert_error(far, 400, "invalid-request")
    page = session.get(f"/settings/{slug}/audit-log/", params={"before": "9" * 23})
    assert 400 <= page.status_code < 500
    named = session.put(f"/api/0/organizations/{slug}/", json={"name": "Acme\r\nBcc: x@y.z"})
    assert_error(named, 400, "invalid-request")


def test_a_page_that_needs_a_second_factor_explains_instead_of_looping(rules: World) -> None:
    owner = rules.session()
    enrol(owner)
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    owner.put(f"/api/0/organizations/{slug}/", json={"settings": {"require_2fa": True}})
    page = member.session.get(f"/settings/{slug}/", follow_redirects=False)
    assert page.status_code == 401
    assert "two-factor" in page.text.lower() and "/settings/account/security/" in page.text


def test_failed_logins_never_log_what_was_typed_for_an_unknown_account(
    rules: World, caplog: pytest.LogCaptureFixture
) -> None:
    typed = "PastedPassw0rd-" + "q" * 8
    with caplog.at_level(logging.WARNING, logger="tokenward.auth"):
        response = rules.anonymous().post(
            "/api/0/auth/login/", json={"email": typed, "password": "x"}
        )
    assert error_code(response) == "invalid-credentials"
    lines = [r.getMessage() for r in caplog.records if r.name == "tokenward.auth"]
    assert any("unknown email" in line for line in lines)
    assert not any(typed.lower() in line.lower() for line in lines)


def test_a_proposal_keeps_tokens_revoked_here_revoked(rules: World) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    secret = rules.personal_token(member.session, ["org:read"])
    assert rules.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200
    usage = f"/api/0/organizations/{slug}/personal-token-usage/"
    assert eventually(lambda: len(owner.get(usage).json()["tokens"]) == 1)
    token_id = owner.get(usage).json()["tokens"][0]["token"]["id"]
    owner.delete(f"/api/0/organizations/{slug}/personal-tokens/{token_id}/")
    report = owner.get(usage, params={"personal_token_max_lifetime_days": 3650}).json()
    token = report["tokens"][0]
    assert token["current_standing"] == token["proposed_standing"] == "revoked-here"


def _policy(**rules: Any) -> OrganizationPolicy:
    return OrganizationPolicy("1", "acme", **rules)


def test_enforcing_a_reported_lifetime_limit_tightens() -> None:
    reported = _policy(
        personal_token_enforcement=Enforcement.REPORT, personal_token_max_lifetime_days=30
    )
    enforced = _policy(personal_token_max_lifetime_days=30)
    assert tightens(reported, enforced)
    assert not tightens(enforced, reported)
    assert not tightens(_policy(personal_token_enforcement=Enforcement.REPORT), _policy())
