"""The organization's finer rules in ``decide``: two-factor, revoked here, report mode, lifetime."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tokenward.policy import (
    Credential,
    CredentialKind,
    Enforcement,
    OrganizationPolicy,
    Requirement,
    Role,
    decide,
)

NOW = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
READ = Requirement("org:read")


def personal(
    *, lifetime_days: float | None = 7, two_factor: bool = False, ident: str = "7"
) -> Credential:
    expires = NOW + dt.timedelta(days=lifetime_days) if lifetime_days is not None else None
    return Credential(
        CredentialKind.PERSONAL_TOKEN,
        frozenset({"org:read"}),
        token_id=ident,
        created_at=NOW,
        expires_at=expires,
        two_factor=two_factor,
    )


def org(**rules: Any) -> OrganizationPolicy:
    return OrganizationPolicy("1", "acme", **rules)


SESSION = Credential(CredentialKind.SESSION)
ORG_TOKEN = Credential(CredentialKind.ORGANIZATION_TOKEN, frozenset({"org:read"}), "1")


@pytest.mark.parametrize(
    ("credential", "role", "expected"),
    [
        (SESSION, Role.OWNER, "2fa-required"),
        (personal(), Role.MEMBER, "2fa-required"),
        (Credential(CredentialKind.SESSION, two_factor=True), Role.MEMBER, None),
        (personal(two_factor=True), Role.MEMBER, None),
        (ORG_TOKEN, None, None),
    ],
)
def test_two_factor_requirement(
    credential: Credential, role: Role | None, expected: str | None
) -> None:
    decision = decide(credential, org(require_2fa=True), role, READ)
    assert decision.code == expected
    assert decision.allowed is (expected is None)
    if expected:
        assert decision.status == 401 and decision.extra == {"organization": "acme"}


def test_two_factor_comes_after_membership_and_scope() -> None:
    assert decide(SESSION, org(require_2fa=True), None, READ).code == "not-found"
    weak = Credential(CredentialKind.PERSONAL_TOKEN, frozenset({"project:read"}), token_id="1")
    assert decide(weak, org(require_2fa=True), Role.OWNER, READ).code == "insufficient-scope"


def test_token_revoked_here_is_refused_even_in_report_mode_and_only_here() -> None:
    revoked = org(
        revoked_personal_tokens=frozenset({"7"}), personal_token_enforcement=Enforcement.REPORT
    )
    decision = decide(personal(), revoked, Role.MEMBER, READ)
    assert (decision.allowed, decision.status, decision.code) == (
        False,
        403,
        "personal-token-revoked",
    )
    assert decide(personal(ident="8"), revoked, Role.MEMBER, READ).allowed
    assert decide(personal(), org(), Role.MEMBER, READ).allowed


@pytest.mark.parametrize(
    ("lifetime", "limit", "expected"),
    [
        (7, 7, None),
        (7, 30, None),
        (7.001, 7, "personal-token-lifetime-exceeded"),
        (None, 3650, "personal-token-lifetime-exceeded"),
        (None, None, None),
    ],
)
def test_lifetime_limit(lifetime: float | None, limit: int | None, expected: str | None) -> None:
    decision = decide(
        personal(lifetime_days=lifetime),
        org(personal_token_max_lifetime_days=limit),
        Role.MEMBER,
        READ,
    )
    assert decision.code == expected
    if expected:
        assert decision.extra["max_lifetime_days"] == limit


def test_lifetime_limit_never_applies_to_sessions_or_organization_tokens() -> None:
    limited = org(personal_token_max_lifetime_days=1)
    assert decide(SESSION, limited, Role.MEMBER, READ).allowed
    assert decide(ORG_TOKEN, limited, None, READ).allowed


@pytest.mark.parametrize(
    ("rules", "would_be"),
    [
        ({"allow_personal_tokens": False}, "personal-token-denied"),
        ({"personal_token_max_lifetime_days": 1}, "personal-token-lifetime-exceeded"),
        (
            {"allow_personal_tokens": False, "personal_token_max_lifetime_days": 1},
            "personal-token-denied",
        ),
    ],
)
def test_report_mode_allows_and_names_the_would_be_refusal(
    rules: dict[str, object], would_be: str
) -> None:
    enforced = decide(personal(), org(**rules), Role.MEMBER, READ)
    assert not enforced.allowed and enforced.code == would_be
    reported = decide(
        personal(), org(personal_token_enforcement=Enforcement.REPORT, **rules), Role.MEMBER, READ
    )
    assert reported.allowed and reported.code is None and reported.report_only == would_be
    assert reported.scopes == frozenset({"org:read"})


def test_report_mode_changes_nothing_when_no_rule_would_refuse() -> None:
    decision = decide(
        personal(), org(personal_token_enforcement=Enforcement.REPORT), Role.MEMBER, READ
    )
    assert decision.allowed and decision.report_only is None


def test_report_mode_does_not_relax_checks_before_the_personal_token_rules() -> None:
    reporting = org(personal_token_enforcement=Enforcement.REPORT, allow_personal_tokens=False)
    assert decide(personal(), reporting, None, READ).code == "not-found"
    assert (
        decide(personal(), reporting, Role.MEMBER, Requirement("org:write")).code
        == "insufficient-scope"
    )
    assert (
        decide(personal(), reporting, Role.MEMBER, Requirement("org:read", session_only=True)).code
        == "session-required"
    )
