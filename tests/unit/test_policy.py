"""``decide`` over the whole matrix: credential kind x role x policy x membership x scope x
requirement, against an oracle written from API.md, plus the check order spelled out by hand."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenward.policy import (
    ALL_SCOPES,
    ROLE_SCOPES,
    Credential,
    CredentialKind,
    Decision,
    OrganizationPolicy,
    Requirement,
    Role,
    decide,
    effective_scopes,
    role_needed_to_manage,
)

SCOPES = sorted(
    f"{resource}:{level}"
    for resource in ("org", "member", "project")
    for level in ("read", "write", "admin")
)
# The table of API.md, written out again rather than imported.
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
    """API.md's order: 404 for outsiders -> scope -> session -> role -> the token policy."""
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
        "personal-token-denied",
        decision.message,
        {"organization": "acme"},
    )
    assert "acme" in decision.message
    assert "organization token" in decision.message


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
    assert decision.status == (200 if decision.allowed else decision.status)
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
