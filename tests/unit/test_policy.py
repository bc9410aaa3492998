"""``decide`` over the whole matrix: credential kind x role x policy x membership x scope x
requirement, against an oracle written from docs/api.md, plus the check order spelled out by
hand."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenward.policy import (
    ALL_SCOPES,
    ROLE_SCOPES,
    Credential,
    CredentialKind,
    Decision,
    Enforcement,
    OrganizationPolicy,
    Requirement,
    Role,
    decide,
    effective_scopes,
    role_needed_to_manage,
)
from tokenward.refusals import Refusal

SCOPES = sorted(
    f"{resource}:{level}"
    for resource in ("org", "member", "project")
    for level in ("read", "write", "admin")
)
# The table of docs/api.md, written out again rather than imported.
MEMBER = {"org:read", "member:read", "project:read", "project:write"}
MANAGER = MEMBER | {"org:write", "member:write", "member:admin", "project:admin"}
ROLE_TABLE: dict[Role | None, set[str]] = {
    None: set(),
    Role.MEMBER: MEMBER,
    Role.MANAGER: MANAGER,
    Role.OWNER: set(SCOPES),
}
RANK = {Role.MEMBER: 0, Role.MANAGER: 1, Role.OWNER: 2}

HERE, ELSEWHERE = "10", "11"
SESSION = Credential(CredentialKind.SESSION)


def personal(*scopes: str) -> Credential:
    return Credential(CredentialKind.PERSONAL_TOKEN, frozenset(scopes or SCOPES))


def org_token(*scopes: str, bound_to: str = HERE) -> Credential:
    return Credential(CredentialKind.ORGANIZATION_TOKEN, frozenset(scopes or SCOPES), bound_to)


def organization(*, allow: bool) -> OrganizationPolicy:
    return OrganizationPolicy(HERE, "acme", allow_personal_tokens=allow)


CREDENTIALS = {
    "session": SESSION,
    "personal-all": personal(),
    "personal-org-read": personal("org:read"),
    "personal-projects": personal("project:read", "project:write", "project:admin"),
    "org-token-all": org_token(),
    "org-token-org-read": org_token("org:read"),
    "org-token-projects": org_token("project:read", "project:write"),
    "org-token-elsewhere": org_token(bound_to=ELSEWHERE),
}
ROLES: list[Role | None] = [None, Role.MEMBER, Role.MANAGER, Role.OWNER]
REQUIREMENTS = [
    Requirement(scope, session_only, minimum_role)
    for scope in [None, *SCOPES]
    for session_only in (False, True)
    for minimum_role in (None, Role.MEMBER, Role.MANAGER, Role.OWNER)
]


def oracle(
    credential: Credential, allow: bool, role: Role | None, requirement: Requirement
) -> tuple[int, str | None, dict[str, str]]:
    """docs/api.md's order: 404 for outsiders -> scope -> session -> role -> the token policy."""
    kind = credential.kind
    if kind is CredentialKind.ORGANIZATION_TOKEN:
        if credential.organization_id != HERE:
            return 404, "not-found", {}
        scopes = set(credential.scopes)
    else:
        if role is None:
            return 404, "not-found", {}
        scopes = set(credential.scopes) & ROLE_TABLE[role]
    if requirement.scope is not None and requirement.scope not in scopes:
        return 403, "insufficient-scope", {"required": requirement.scope}
    if requirement.session_only and kind is not CredentialKind.SESSION:
        return 403, "session-required", {}
    needed = requirement.minimum_role
    if needed is not None and (role is None or RANK[role] < RANK[needed]):
        return 403, "forbidden", {"required_role": needed.value}
    if kind is CredentialKind.PERSONAL_TOKEN and not allow:
        return 403, "personal-token-denied", {"organization": "acme"}
    return 200, None, {}


def _cases() -> list[tuple[str, Role | None]]:
    cases = []
    for name, credential in CREDENTIALS.items():
        # An organization token has no user, hence never a role.
        roles = [None] if credential.kind is CredentialKind.ORGANIZATION_TOKEN else ROLES
        cases += [(name, role) for role in roles]
    return cases


@pytest.mark.parametrize(
    ("name", "role"), _cases(), ids=[f"{n}-{r.value if r else 'outsider'}" for n, r in _cases()]
)
def test_decide_matches_the_contract_over_the_whole_matrix(name: str, role: Role | None) -> None:
    credential = CREDENTIALS[name]
    mismatches = []
    checked = 0
    for allow, requirement in itertools.product((True, False), REQUIREMENTS):
        decision = decide(credential, organization(allow=allow), role, requirement)
        status, code, extra = oracle(credential, allow, role, requirement)
        got = (decision.status, decision.code, dict(decision.extra), decision.allowed)
        if got != (status, code, extra, code is None):
            mismatches.append((allow, requirement, got, (status, code, extra)))
        checked += 1
    assert checked == 2 * len(REQUIREMENTS) == 160
    assert not mismatches, mismatches[:5]


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
@pytest.mark.parametrize("role", ROLES)
def test_an_unknown_organization_is_not_found_for_everyone(name: str, role: Role | None) -> None:
    decision = decide(CREDENTIALS[name], None, role, Requirement())
    assert (decision.allowed, decision.status, decision.code) == (False, 404, "not-found")


def test_outsiders_get_the_same_decision_whatever_the_policy_and_requirement() -> None:
    seen: set[tuple[int, str | None, str]] = set()
    for credential, allow, requirement in itertools.product(
        (SESSION, personal(), personal("org:read"), org_token(bound_to=ELSEWHERE)),
        (True, False),
        REQUIREMENTS,
    ):
        decision = decide(credential, organization(allow=allow), None, requirement)
        seen.add((decision.status, decision.code, decision.message))
        assert not decision.extra
    unknown = decide(SESSION, None, None, Requirement())
    assert seen == {(unknown.status, unknown.code, unknown.message)}


@pytest.mark.parametrize(
    ("credential", "role", "requirement", "code"),
    [
        # membership (404) before scope
        (personal("org:read"), None, Requirement("org:admin"), "not-found"),
        # scope before session
        (personal("org:read"), Role.OWNER, Requirement("org:write", True), "insufficient-scope"),
        # scope before role
        (SESSION, Role.MEMBER, Requirement("org:write", minimum_role=Role.OWNER),
         "insufficient-scope"),
        # session before role
        (personal(), Role.MEMBER, Requirement("org:read", True, Role.OWNER), "session-required"),
        # session before policy
        (personal(), Role.OWNER, Requirement("org:read", True), "session-required"),
        # role before policy
        (personal(), Role.MANAGER, Requirement("member:write", minimum_role=Role.OWNER),
         "forbidden"),
        # scope before policy
        (personal("project:read"), Role.OWNER, Requirement("org:read"), "insufficient-scope"),
        # the role limits the token: a member's token with org:write still lacks it
        (personal(), Role.MEMBER, Requirement("org:write"), "insufficient-scope"),
        # and the policy comes last
        (personal(), Role.OWNER, Requirement("org:read"), "personal-token-denied"),
    ],
)  # fmt: skip
def test_check_order_by_hand(
    credential: Credential, role: Role | None, requirement: Requirement, code: str
) -> None:
    decision = decide(credential, organization(allow=False), role, requirement)
    assert decision.code == code
    assert not decision.allowed


def test_denial_names_the_organization_and_says_what_to_do() -> None:
    decision = decide(personal(), organization(allow=False), Role.MEMBER, Requirement("org:read"))
    assert decision == Decision(
        False,
        403,
        Refusal.PERSONAL_TOKEN_DENIED,
        "The organization 'acme' does not allow personal API tokens. Ask an organization owner "
        "or manager for an organization token, or sign in with a browser session.",
        {"organization": "acme"},
    )


def test_organization_tokens_and_sessions_ignore_the_personal_token_switch() -> None:
    for credential, role in ((org_token(), None), (SESSION, Role.MEMBER)):
        for allow in (True, False):
            decision = decide(credential, organization(allow=allow), role, Requirement("org:read"))
            assert decision.allowed, (credential.kind, allow)


def test_an_organization_token_works_only_for_its_own_organization() -> None:
    here = decide(org_token(), organization(allow=True), None, Requirement("org:read"))
    elsewhere = decide(
        org_token(bound_to=ELSEWHERE), organization(allow=True), None, Requirement("org:read")
    )
    assert here.allowed
    assert (elsewhere.status, elsewhere.code) == (404, "not-found")


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MANAGER, Role.OWNER])
def test_role_scopes_are_the_table_of_the_contract(role: Role) -> None:
    assert set(ROLE_SCOPES[role]) == ROLE_TABLE[role]
    assert set(ALL_SCOPES) == set(SCOPES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "scopes", [(), ("org:read",), ("org:admin", "project:read"), tuple(SCOPES)]
)
def test_effective_scopes_are_token_scopes_within_the_role(
    role: Role | None, scopes: tuple[str, ...]
) -> None:
    token = Credential(CredentialKind.PERSONAL_TOKEN, frozenset(scopes))
    assert set(effective_scopes(token, role)) == set(scopes) & ROLE_TABLE[role]
    assert effective_scopes(SESSION, role) == frozenset(ROLE_TABLE[role])
    bound = Credential(CredentialKind.ORGANIZATION_TOKEN, frozenset(scopes), HERE)
    assert effective_scopes(bound, None) == frozenset(scopes)


def test_an_allowed_decision_carries_the_effective_scopes() -> None:
    decision = decide(
        personal("org:read", "org:admin", "project:write"),
        organization(allow=True),
        Role.MEMBER,
        Requirement("project:write"),
    )
    assert decision.allowed
    assert decision.scopes == {"org:read", "project:write"}


@pytest.mark.parametrize(
    ("target", "new", "needed"),
    [
        (None, Role.MEMBER, None),
        (None, Role.MANAGER, None),
        (None, Role.OWNER, Role.OWNER),
        (Role.MEMBER, Role.MANAGER, None),
        (Role.MANAGER, Role.MEMBER, None),
        (Role.MEMBER, Role.OWNER, Role.OWNER),
        (Role.OWNER, Role.MANAGER, Role.OWNER),
        (Role.OWNER, None, Role.OWNER),
        (Role.MANAGER, None, None),
        (Role.MEMBER, None, None),
    ],
)
def test_role_needed_to_manage(target: Role | None, new: Role | None, needed: Role | None) -> None:
    assert role_needed_to_manage(target, new) is needed


def test_tightened_only_ever_adds_requirements() -> None:
    base = Requirement("org:write", minimum_role=Role.MANAGER)
    assert base.tightened() == base
    assert base.tightened(minimum_role=Role.MEMBER) == base
    assert base.tightened(minimum_role=Role.OWNER) == Requirement("org:write", False, Role.OWNER)
    assert base.tightened(session_only=True) == Requirement("org:write", True, Role.MANAGER)
    assert Requirement("org:read", True).tightened() == Requirement("org:read", True)


kinds = st.sampled_from(list(CredentialKind))
scope_sets = st.frozensets(st.sampled_from(SCOPES))
roles = st.sampled_from(ROLES)
requirements = st.sampled_from(REQUIREMENTS)


@settings(deadline=None)  # pure and fast; a busy machine must not fail it
@given(kinds, scope_sets, st.booleans(), roles, st.booleans(), requirements)
def test_decide_never_grants_more_than_the_credential_and_role_hold(
    kind: CredentialKind,
    scopes: frozenset[str],
    bound_here: bool,
    role: Role | None,
    allow: bool,
    requirement: Requirement,
) -> None:
    if kind is CredentialKind.ORGANIZATION_TOKEN:
        credential = Credential(kind, scopes, HERE if bound_here else ELSEWHERE)
        role = None
    else:
        credential = Credential(kind, scopes)
    decision = decide(credential, organization(allow=allow), role, requirement)
    assert decision.allowed is (decision.code is None)
    assert decision.status == (200 if decision.code is None else STATUS_OF[decision.code])
    if decision.allowed:
        assert decision.scopes <= credential.scopes
        if kind is not CredentialKind.ORGANIZATION_TOKEN:
            assert role is not None and decision.scopes <= ROLE_SCOPES[role]
        if requirement.scope is not None:
            assert requirement.scope in decision.scopes
        if requirement.session_only:
            assert kind is CredentialKind.SESSION
        if kind is CredentialKind.PERSONAL_TOKEN:
            assert allow
    else:
        assert decision.status in (403, 404)
        assert decision.scopes == frozenset()


# Every rule together: the refusals of docs/api.md and their statuses, in the documented order.
STATUS_OF = {
    "not-found": 404,
    "insufficient-scope": 403,
    "session-required": 403,
    "forbidden": 403,
    "2fa-required": 401,
    "personal-token-revoked": 403,
    "personal-token-denied": 403,
    "personal-token-lifetime-exceeded": 403,
}
LIMIT_DAYS = 30
MINTED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TOKEN_ID = "7"


def _personal(
    scopes: frozenset[str], two_factor: bool, lifetime_days: int | None, token_id: str
) -> Credential:
    expires = None if lifetime_days is None else MINTED + dt.timedelta(days=lifetime_days)
    return Credential(
        CredentialKind.PERSONAL_TOKEN,
        scopes,
        token_id=token_id,
        created_at=MINTED,
        expires_at=expires,
        two_factor=two_factor,
    )


FULL_CREDENTIALS = [
    *(Credential(CredentialKind.SESSION, two_factor=two_factor) for two_factor in (True, False)),
    *(
        _personal(scopes, two_factor, lifetime, token_id)
        for scopes in (frozenset(SCOPES), frozenset({"org:read"}))
        for two_factor in (True, False)
        for lifetime in (None, LIMIT_DAYS, LIMIT_DAYS + 1)
        for token_id in (TOKEN_ID, "8")
    ),
    org_token(),
    org_token("org:read"),
    org_token(bound_to=ELSEWHERE),
]
FULL_POLICIES = [
    OrganizationPolicy(HERE, "acme", allow, enforcement, limit, require_2fa, frozenset({TOKEN_ID}))
    for allow in (True, False)
    for enforcement in Enforcement
    for limit in (None, LIMIT_DAYS)
    for require_2fa in (True, False)
]
FULL_REQUIREMENTS = [
    Requirement(scope, session_only, minimum_role)
    for scope in (None, "org:read", "org:write", "member:admin")
    for session_only in (False, True)
    for minimum_role in (None, Role.MANAGER, Role.OWNER)
]


def full_oracle(
    credential: Credential, policy: OrganizationPolicy, role: Role | None, requirement: Requirement
) -> tuple[int, str | None, dict[str, Any], str | None]:
    """(status, code, extra, report_only) in docs/api.md's order: membership -> scope -> session ->
    role -> 2FA -> personal-token rules (revoked here, denied, lifetime), report mode last."""
    status, code, extra = oracle(credential, True, role, requirement)
    if code is not None:
        return status, code, extra, None
    kind = credential.kind
    second_factor_missing = kind is not CredentialKind.ORGANIZATION_TOKEN and not (
        credential.two_factor
    )
    if policy.require_2fa and second_factor_missing:
        return 401, "2fa-required", {"organization": "acme"}, None
    if kind is not CredentialKind.PERSONAL_TOKEN:
        return 200, None, {}, None
    if credential.token_id in policy.revoked_personal_tokens:
        return 403, "personal-token-revoked", {"organization": "acme"}, None  # even in report
    refusal: tuple[str, dict[str, Any]] | None = None
    limit = policy.personal_token_max_lifetime_days
    lifetime = None
    if credential.expires_at is not None and credential.created_at is not None:
        lifetime = (credential.expires_at - credential.created_at).days
    if not policy.allow_personal_tokens:
        refusal = "personal-token-denied", {"organization": "acme"}
    elif limit is not None and (lifetime is None or lifetime > limit):
        refusal = (
            "personal-token-lifetime-exceeded",
            {"organization": "acme", "max_lifetime_days": limit},
        )
    if refusal is None:
        return 200, None, {}, None
    if policy.personal_token_enforcement is Enforcement.REPORT:
        return 200, None, {}, refusal[0]
    return 403, refusal[0], refusal[1], None


def test_decide_matches_the_contract_with_every_rule_together() -> None:
    mismatches = []
    codes: set[tuple[str | None, str | None]] = set()
    for credential, policy, role, requirement in itertools.product(
        FULL_CREDENTIALS, FULL_POLICIES, ROLES, FULL_REQUIREMENTS
    ):
        if credential.kind is CredentialKind.ORGANIZATION_TOKEN and role is not None:
            continue
        decision = decide(credential, policy, role, requirement)
        expected = full_oracle(credential, policy, role, requirement)
        got = (decision.status, decision.code, dict(decision.extra), decision.report_only)
        if got != expected or decision.allowed is not (expected[1] is None):
            mismatches.append((credential, policy, role, requirement, got, expected))
        codes.add((expected[1], expected[3]))
    assert not mismatches, mismatches[:3]
    # The matrix reaches every refusal, and report mode for both refusals it can soften.
    assert {code for code, _ in codes} == {None, *STATUS_OF}
    assert {report for _, report in codes} == {
        None,
        "personal-token-denied",
        "personal-token-lifetime-exceeded",
    }


@settings(deadline=None)  # pure and fast; a busy machine must not fail it
@given(
    st.sampled_from(FULL_CREDENTIALS),
    st.sampled_from(FULL_POLICIES),
    roles,
    st.sampled_from(REQUIREMENTS),
)
def test_decide_matches_the_full_oracle_for_any_requirement(
    credential: Credential, policy: OrganizationPolicy, role: Role | None, requirement: Requirement
) -> None:
    if credential.kind is CredentialKind.ORGANIZATION_TOKEN:
        role = None
    decision = decide(credential, policy, role, requirement)
    expected = full_oracle(credential, policy, role, requirement)
    assert (decision.status, decision.code, dict(decision.extra), decision.report_only) == expected


@pytest.mark.parametrize(
    ("credential", "role", "code"),
    [
        (org_token("member:admin"), None, None),
        (org_token("member:read"), None, "insufficient-scope"),  # scope first
        (org_token(bound_to=ELSEWHERE), None, "not-found"),
        (personal(), Role.OWNER, "organization-token-required"),
        (SESSION, Role.OWNER, "organization-token-required"),
        (personal(), None, "not-found"),
        (personal(), Role.MEMBER, "insufficient-scope"),
    ],
)
def test_organization_token_only_routes_refuse_every_other_credential(
    credential: Credential, role: Role | None, code: str | None
) -> None:
    requirement = Requirement("member:admin", organization_token_only=True)
    decision = decide(credential, organization(allow=True), role, requirement)
    assert decision.code == code
    assert decision.allowed is (code is None)
    assert requirement.tightened(minimum_role=Role.OWNER).organization_token_only
