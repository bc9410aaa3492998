"""``decide``'s SSO branches: where they sit in the check order, break-glass, report mode."""

from __future__ import annotations

import dataclasses
import datetime as dt

from tokenward.policy import (
    Credential,
    CredentialKind,
    Enforcement,
    OrganizationPolicy,
    Requirement,
    Role,
    decide,
)

HERE = "10"
SSO = OrganizationPolicy(HERE, "acme", require_sso=True)
SESSION = Credential(CredentialKind.SESSION)
SSO_SESSION = Credential(CredentialKind.SESSION, sso_organizations=frozenset({HERE}))
TOKEN = Credential(CredentialKind.PERSONAL_TOKEN, token_id="7")
AUTHORIZED = dataclasses.replace(TOKEN, sso_organizations=frozenset({HERE}))
SETTINGS = Requirement(
    "org:write", session_only=True, minimum_role=Role.OWNER, sso_break_glass=True
)


def test_sessions_need_an_sso_sign_in_for_this_organization() -> None:
    refused = decide(SESSION, SSO, Role.MEMBER, Requirement("org:read"))
    assert (refused.status, refused.code) == (401, "sso-required")
    assert refused.extra == {"organization": "acme", "loginUrl": "/auth/login/acme/"}
    elsewhere = dataclasses.replace(SESSION, sso_organizations=frozenset({"11"}))
    assert decide(elsewhere, SSO, Role.MEMBER, Requirement()).code == "sso-required"
    assert decide(SSO_SESSION, SSO, Role.MEMBER, Requirement("org:read")).allowed
    assert decide(
        SESSION, dataclasses.replace(SSO, require_sso=False), Role.MEMBER, Requirement()
    ).allowed


def test_the_sso_requirement_comes_after_membership_scope_role_and_2fa() -> None:
    assert decide(SESSION, SSO, None, Requirement()).code == "not-found"
    owner_only = Requirement(minimum_role=Role.OWNER)
    assert decide(SESSION, SSO, Role.MEMBER, owner_only).code == "forbidden"
    both = dataclasses.replace(SSO, require_2fa=True)
    assert decide(SESSION, both, Role.MEMBER, Requirement()).code == "2fa-required"
    assert decide(TOKEN, both, Role.MEMBER, Requirement()).code == "2fa-required"


def test_break_glass_is_for_owners_on_marked_requirements_only() -> None:
    glass = decide(SESSION, SSO, Role.OWNER, SETTINGS)
    assert glass.allowed and glass.break_glass
    assert not decide(SSO_SESSION, SSO, Role.OWNER, SETTINGS).break_glass
    assert decide(SESSION, SSO, Role.OWNER, Requirement("org:write")).code == "sso-required"
    reading = Requirement("org:read", session_only=True, sso_break_glass=True)
    assert decide(SESSION, SSO, Role.MANAGER, reading).code == "sso-required"
    assert decide(
        TOKEN, SSO, Role.OWNER, dataclasses.replace(SETTINGS, session_only=False)
    ).code == ("personal-token-sso-unauthorized")


def test_personal_tokens_need_an_authorization_after_the_other_token_rules() -> None:
    refused = decide(TOKEN, SSO, Role.MEMBER, Requirement("org:read"))
    assert (refused.status, refused.code) == (403, "personal-token-sso-unauthorized")
    assert refused.extra == {"organization": "acme", "authorizeUrl": "/auth/login/acme/?token=7"}
    assert decide(AUTHORIZED, SSO, Role.MEMBER, Requirement("org:read")).allowed
    revoked = dataclasses.replace(SSO, revoked_personal_tokens=frozenset({"7"}))
    assert decide(AUTHORIZED, revoked, Role.MEMBER, Requirement()).code == "personal-token-revoked"
    denied = dataclasses.replace(SSO, allow_personal_tokens=False)
    assert decide(TOKEN, denied, Role.MEMBER, Requirement()).code == "personal-token-denied"
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    limited = dataclasses.replace(SSO, personal_token_max_lifetime_days=30)
    assert decide(TOKEN, limited, Role.MEMBER, Requirement()).code == (
        "personal-token-lifetime-exceeded"
    )
    short = dataclasses.replace(TOKEN, created_at=now, expires_at=now + dt.timedelta(days=5))
    assert decide(short, limited, Role.MEMBER, Requirement()).code == (
        "personal-token-sso-unauthorized"
    )
    # Sessions and organization tokens are not asked for a token authorization.
    org_token = Credential(CredentialKind.ORGANIZATION_TOKEN, organization_id=HERE)
    assert decide(org_token, SSO, None, Requirement("org:read")).allowed


def test_report_mode_relaxes_denial_and_lifetime_but_not_sso() -> None:
    reporting = dataclasses.replace(
        SSO,
        allow_personal_tokens=False,
        personal_token_max_lifetime_days=1,
        personal_token_enforcement=Enforcement.REPORT,
    )
    assert decide(TOKEN, reporting, Role.MEMBER, Requirement()).code == (
        "personal-token-sso-unauthorized"
    )
    passed = decide(AUTHORIZED, reporting, Role.MEMBER, Requirement())
    assert passed.allowed and passed.report_only == "personal-token-denied"
