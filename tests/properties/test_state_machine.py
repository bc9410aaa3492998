"""Hypothesis drives organizations, members, roles, both kinds of token and the organization's
rules (the personal-token switch, report mode, a lifetime limit, required 2FA, tokens revoked for
one organization) through the HTTP API, keeps a model of what should be true, and after every step
asks the live server, with every credential, about every organization and its project (a route
that learns its organization from the object):

- a personal token never gets a 2xx on an organization that denies personal tokens;
- a removed member's tokens and session never reach that organization;
- a revoked or expired token never works anywhere;
- an organization token never reaches another organization;
- a non-member never learns whether an organization exists: the same 404 body as for a slug
  that does not exist, and no trace of it in the list of organizations.

Each answer must also be exactly the one the model predicts (200, 401, 403 or 404 and its code).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import httpx
import pyotp
import pytest
from hypothesis import HealthCheck, Phase, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.support import ApiClient, UserAccount, World, error_code, unique
from tokenward.policy import ALL_SCOPES, ROLE_SCOPES, Role

USERS = 4
MAX_ORGANIZATIONS = 3
MAX_PERSONAL_TOKENS = 5
MAX_ORGANIZATION_TOKENS = 4
PERSONAL_SCOPES = [sorted(ALL_SCOPES), ["org:read"], ["project:read", "project:write"]]
ORGANIZATION_SCOPES = [["org:read", "project:read"], ["project:read"]]
ROLES = [role.value for role in Role]
TWO_FACTOR_USER = USERS - 1  # the one person with an authenticator
LIFETIMES = [None, 7]  # days a personal token is minted to live (None: never expires)
LIMITS = [None, 30, 3]  # an organization's maximum personal-token lifetime

# Deterministic and bounded. No shrinking: every step costs requests to a live server, and a
# failing run of at most a dozen steps reads well as it is.
SETTINGS = settings(
    max_examples=5,
    stateful_step_count=10,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# Situations the run must have seen at least once, or it proved little.
SITUATIONS = {
    "personal token denied",
    "expired token refused",
    "revoked personal token refused",
    "revoked organization token refused",
    "organization token at another organization",
    "removed member refused",
    "non-member refused",
    "second factor required",
    "personal token revoked here",
    "report mode let through",
    "project reached",
}

State = Literal["active", "revoked", "expired"]
MISSING_PROJECT = "999999999"


@dataclass(eq=False)
class Token:
    """A token the model knows about. The secret stays out of ``repr``, and so out of reports."""

    label: str
    kind: Literal["personal", "organization"]
    scopes: frozenset[str]
    id: str = ""
    user: int | None = None  # personal tokens
    organization: str | None = None  # organization tokens
    state: State = "active"
    lifetime_days: int | None = None
    secret: str = field(default="", repr=False)


@dataclass(eq=False)
class Organization:
    slug: str
    project_id: str = ""
    allow_personal_tokens: bool = True
    report_only: bool = False
    max_lifetime_days: int | None = None
    require_2fa: bool = False
    revoked_here: set[str] = field(default_factory=set)  # token labels
    roles: dict[int, str] = field(default_factory=dict)  # user index -> role
    member_ids: dict[int, str] = field(default_factory=dict)  # user index -> membership id

    def owners(self) -> list[int]:
        """Owners who can act here: with a second factor, if the organization requires one."""
        return sorted(
            user
            for user, role in self.roles.items()
            if role == "owner" and (user == TWO_FACTOR_USER or not self.require_2fa)
        )


@dataclass
class Cast:
    """Created once per test: the people, their sessions, and tokens that have already expired."""

    world: World
    accounts: list[UserAccount]
    sessions: list[ApiClient]
    bearer: ApiClient  # no cookie: the Authorization header alone decides
    expired: list[Token]
    missing_slug: str


def _expiring_tokens(world: World, accounts: list[UserAccount], sessions: list[ApiClient]) -> Cast:
    """Mint tokens that expire in two seconds, see them work, and wait until they have expired."""
    expires_at = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)).isoformat()
    slug = world.organization(sessions[0])
    world.add_member(sessions[0], slug, accounts[1], "member")
    expired = []
    for user in (0, 1):
        body = {"name": unique("soon"), "scopes": sorted(ALL_SCOPES), "expires_at": expires_at}
        response = sessions[user].post("/api/0/users/me/tokens/", json=body)
        assert response.status_code == 201, response.text
        expired.append(
            Token(f"expired-personal-{user}", "personal", frozenset(ALL_SCOPES), user=user)
        )
        expired[-1].secret = response.json()["token"]
    body = {"name": unique("soon"), "scopes": ["org:read"], "expires_at": expires_at}
    response = sessions[0].post(f"/api/0/organizations/{slug}/tokens/", json=body)
    assert response.status_code == 201, response.text
    expired.append(
        Token("expired-organization", "organization", frozenset({"org:read"}), organization=slug)
    )
    expired[-1].secret = response.json()["token"]
    bearer = world.anonymous()
    for token in expired:
        headers = {"Authorization": f"Bearer {token.secret}"}
        working = bearer.get(f"/api/0/organizations/{slug}/", headers=headers)
        assert working.status_code == 200, working.text  # they work until they expire
    deadline = dt.datetime.fromisoformat(expires_at).timestamp() + 0.5
    time.sleep(max(0.0, deadline - time.time()))
    for token in expired:
        token.state = "expired"
    return Cast(world, accounts, sessions, bearer, expired, unique("missing"))


class AccessMachine(RuleBasedStateMachine):
    cast: ClassVar[Cast]
    seen: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        self.organizations: list[Organization] = []
        self.tokens: list[Token] = list(self.cast.expired)
        self.removed: set[tuple[int, str]] = set()  # (user, slug)

    # -- helpers ---------------------------------------------------------------------------

    def session(self, user: int) -> ApiClient:
        return self.cast.sessions[user]

    def as_bearer(self, token: Token, path: str) -> httpx.Response:
        return self.cast.bearer.get(path, headers={"Authorization": f"Bearer {token.secret}"})

    def active(self, kind: str) -> list[Token]:
        return [t for t in self.tokens if t.kind == kind and t.state == "active"]

    def count(self, kind: str) -> int:
        return sum(1 for t in self.tokens if t.kind == kind and t not in self.cast.expired)

    def pick_owner(self, data: st.DataObject, organization: Organization) -> int:
        assume(organization.owners())  # all owners lack the second factor now required
        owner: int = data.draw(st.sampled_from(organization.owners()), label="acting owner")
        return owner

    # -- rules -----------------------------------------------------------------------------

    @initialize(
        owner=st.integers(0, USERS - 1),
        member=st.integers(0, USERS - 1),
        role=st.sampled_from(ROLES),
        scopes=st.sampled_from(PERSONAL_SCOPES),
        allow=st.booleans(),
        report=st.booleans(),
        require_2fa=st.booleans(),
    )
    def an_organization_with_a_member_and_tokens(
        self,
        owner: int,
        member: int,
        role: str,
        scopes: list[str],
        allow: bool,
        report: bool,
        require_2fa: bool,
    ) -> None:
        """Start from something worth protecting: an owner, a member, both kinds of token."""
        self.create_organization(owner)
        organization = self.organizations[-1]
        if member != owner:
            self.add(organization, owner, member, role)
        self.mint_personal_token(member, sorted(ALL_SCOPES), None)
        self.mint_personal_token(owner, scopes, LIFETIMES[-1])
        self.mint(organization, owner, ORGANIZATION_SCOPES[0])
        self.flip(organization, owner, allow)
        if report:
            response = self.session(owner).put(
                f"/api/0/organizations/{organization.slug}/",
                json={"settings": {"personal_token_enforcement": "report"}},
            )
            assert response.status_code == 200, response.text
            organization.report_only = True
        if require_2fa:  # by an owner with a second factor, as only they may
            if TWO_FACTOR_USER not in organization.roles:
                self.add(organization, owner, TWO_FACTOR_USER, "owner")
            elif organization.roles[TWO_FACTOR_USER] != "owner":
                member_id = organization.member_ids[TWO_FACTOR_USER]
                promoted = self.session(owner).put(
                    f"/api/0/organizations/{organization.slug}/members/{member_id}/",
                    json={"role": "owner"},
                )
                assert promoted.status_code == 200, promoted.text
                organization.roles[TWO_FACTOR_USER] = "owner"
            response = self.session(TWO_FACTOR_USER).put(
                f"/api/0/organizations/{organization.slug}/",
                json={"settings": {"require_2fa": True}},
            )
            assert response.status_code == 200, response.text
            organization.require_2fa = True

    @precondition(lambda self: len(self.organizations) < MAX_ORGANIZATIONS)
    @rule(owner=st.integers(0, USERS - 1))
    def create_organization(self, owner: int) -> None:
        slug = unique("sm")
        response = self.session(owner).post(
            "/api/0/organizations/", json={"slug": slug, "name": slug.title()}
        )
        assert response.status_code == 201, response.text
        members = self.session(owner).get(f"/api/0/organizations/{slug}/members/")
        assert members.status_code == 200, members.text
        (membership,) = members.json()
        project = self.session(owner).post(
            f"/api/0/organizations/{slug}/projects/", json={"slug": "site", "name": "Site"}
        )
        assert project.status_code == 201, project.text
        organization = Organization(slug, project.json()["id"], roles={owner: "owner"})
        organization.member_ids[owner] = membership["id"]
        self.organizations.append(organization)

    @rule(data=st.data(), user=st.integers(0, USERS - 1), role=st.sampled_from(ROLES))
    def add_member(self, data: st.DataObject, user: int, role: str) -> None:
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        self.add(organization, self.pick_owner(data, organization), user, role)

    def add(self, organization: Organization, actor: int, user: int, role: str) -> None:
        response = self.session(actor).post(
            f"/api/0/organizations/{organization.slug}/members/",
            json={"email": self.cast.accounts[user].email, "role": role},
        )
        if user in organization.roles:
            assert response.status_code == 409, response.text
            return
        assert response.status_code == 201, response.text
        organization.roles[user] = role
        organization.member_ids[user] = response.json()["id"]
        self.removed.discard((user, organization.slug))

    @rule(data=st.data())
    def remove_member(self, data: st.DataObject) -> None:
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        actor = self.pick_owner(data, organization)
        user = data.draw(st.sampled_from(sorted(organization.roles)), label="removed user")
        response = self.session(actor).delete(
            f"/api/0/organizations/{organization.slug}/members/{organization.member_ids[user]}/"
        )
        if [u for u, r in organization.roles.items() if r == "owner"] == [user]:
            assert response.status_code == 409, response.text
            return
        assert response.status_code == 204, response.text
        del organization.roles[user]
        del organization.member_ids[user]
        self.removed.add((user, organization.slug))

    @rule(data=st.data(), role=st.sampled_from(ROLES))
    def change_role(self, data: st.DataObject, role: str) -> None:
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        actor = self.pick_owner(data, organization)
        user = data.draw(st.sampled_from(sorted(organization.roles)), label="member")
        response = self.session(actor).put(
            f"/api/0/organizations/{organization.slug}/members/{organization.member_ids[user]}/",
            json={"role": role},
        )
        owners = [u for u, r in organization.roles.items() if r == "owner"]
        if owners == [user] and role != "owner":
            assert response.status_code == 409, response.text
            return
        assert response.status_code == 200, response.text
        organization.roles[user] = role

    @rule(data=st.data(), allow=st.booleans())
    def flip_personal_tokens(self, data: st.DataObject, allow: bool) -> None:
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        self.flip(organization, self.pick_owner(data, organization), allow)

    def flip(self, organization: Organization, actor: int, allow: bool) -> None:
        response = self.session(actor).put(
            f"/api/0/organizations/{organization.slug}/",
            json={"settings": {"allow_personal_tokens": allow}},
        )
        assert response.status_code == 200, response.text
        assert response.json()["settings"]["allow_personal_tokens"] is allow
        organization.allow_personal_tokens = allow

    @rule(
        data=st.data(),
        report=st.booleans(),
        limit=st.sampled_from(LIMITS),
        require_2fa=st.booleans(),
    )
    def set_rules(
        self, data: st.DataObject, report: bool, limit: int | None, require_2fa: bool
    ) -> None:
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        actor = self.pick_owner(data, organization)
        settings = {
            "personal_token_enforcement": "report" if report else "enforce",
            "personal_token_max_lifetime_days": limit,
            "require_2fa": require_2fa,
        }
        response = self.session(actor).put(
            f"/api/0/organizations/{organization.slug}/", json={"settings": settings}
        )
        if require_2fa and not organization.require_2fa and actor != TWO_FACTOR_USER:
            assert response.status_code == 400, response.text  # an owner needs 2FA first
            return
        assert response.status_code == 200, response.text
        organization.report_only = report
        organization.max_lifetime_days = limit
        organization.require_2fa = require_2fa

    @rule(data=st.data())
    def revoke_for_one_organization(self, data: st.DataObject) -> None:
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        candidates = [
            t
            for t in self.active("personal")
            if t.user in organization.roles and t.label not in organization.revoked_here
        ]
        assume(candidates)
        token = data.draw(st.sampled_from(candidates), label="token")
        actor = self.pick_owner(data, organization)
        response = self.session(actor).delete(
            f"/api/0/organizations/{organization.slug}/personal-tokens/{token.id}/"
        )
        assert response.status_code == 204, response.text
        organization.revoked_here.add(token.label)

    @precondition(lambda self: self.count("personal") < MAX_PERSONAL_TOKENS)
    @rule(
        user=st.integers(0, USERS - 1),
        scopes=st.sampled_from(PERSONAL_SCOPES),
        lifetime=st.sampled_from(LIFETIMES),
    )
    def mint_personal_token(self, user: int, scopes: list[str], lifetime: int | None) -> None:
        body: dict[str, object] = {"name": unique("sm"), "scopes": scopes}
        if lifetime is not None:
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=lifetime)
            body["expires_at"] = expires.isoformat()
        response = self.session(user).post("/api/0/users/me/tokens/", json=body)
        assert response.status_code == 201, response.text
        issued = response.json()
        token = Token(f"personal-{len(self.tokens)}", "personal", frozenset(scopes), user=user)
        token.id, token.secret, token.lifetime_days = issued["id"], issued["token"], lifetime
        self.tokens.append(token)

    @precondition(lambda self: bool(self.active("personal")))
    @rule(data=st.data())
    def revoke_personal_token(self, data: st.DataObject) -> None:
        token = data.draw(st.sampled_from(self.active("personal")), label="token")
        assert token.user is not None
        response = self.session(token.user).delete(f"/api/0/users/me/tokens/{token.id}/")
        assert response.status_code == 204, response.text
        token.state = "revoked"

    @precondition(lambda self: self.count("organization") < MAX_ORGANIZATION_TOKENS)
    @rule(data=st.data(), scopes=st.sampled_from(ORGANIZATION_SCOPES))
    def mint_organization_token(self, data: st.DataObject, scopes: list[str]) -> None:
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        self.mint(organization, self.pick_owner(data, organization), scopes)

    def mint(self, organization: Organization, actor: int, scopes: list[str]) -> None:
        response = self.session(actor).post(
            f"/api/0/organizations/{organization.slug}/tokens/",
            json={"name": unique("sm"), "scopes": scopes},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        token = Token(
            f"organization-{len(self.tokens)}",
            "organization",
            frozenset(scopes),
            organization=organization.slug,
        )
        token.id, token.secret = body["id"], body["token"]
        self.tokens.append(token)

    @precondition(lambda self: bool(self.active("organization")))
    @rule(data=st.data())
    def revoke_organization_token(self, data: st.DataObject) -> None:
        token = data.draw(st.sampled_from(self.active("organization")), label="token")
        organization = next(o for o in self.organizations if o.slug == token.organization)
        actor = self.pick_owner(data, organization)
        response = self.session(actor).delete(
            f"/api/0/organizations/{organization.slug}/tokens/{token.id}/"
        )
        assert response.status_code == 204, response.text
        token.state = "revoked"

    def minted(self) -> list[Token]:
        return [t for t in self.tokens if t not in self.cast.expired]

    @precondition(lambda self: bool(self.minted()))
    @rule(data=st.data(), reporter=st.integers(0, USERS - 1))
    def report_leaked_token(self, data: st.DataObject, reporter: int) -> None:
        """Anyone may report any token as leaked: a live one is revoked, a dead one stays so."""
        token = data.draw(st.sampled_from(self.minted()), label="token")
        response = self.session(reporter).post(
            "/api/0/leaked-tokens/", json={"token": token.secret}
        )
        assert response.status_code == 200, response.text
        assert response.json()["label"] == "true_positive", response.text
        if token.state == "active":
            token.state = "revoked"

    # -- what must hold after every step ---------------------------------------------------

    def expected(
        self,
        token: Token | None,
        user: int | None,
        org: Organization,
        scope: str | None,
        *,
        second_factor: bool = False,
    ) -> tuple[int, str]:
        """The answer to a read that needs ``scope`` in ``org``, per the model, in the order of
        the contract: credential -> membership -> scope -> 2FA -> the personal-token rules.
        ``second_factor`` asks as if the user had one (how lists judge personal tokens)."""
        if token is not None and token.state == "revoked":
            return 401, "invalid-token"
        if token is not None and token.state == "expired":
            return 401, "token-expired"
        if token is not None and token.kind == "organization":
            if token.organization != org.slug:
                return 404, "not-found"
            return (200, "") if scope in (None, *token.scopes) else (403, "insufficient-scope")
        assert user is not None
        role = org.roles.get(user)
        if role is None:
            return 404, "not-found"
        scopes = ROLE_SCOPES[Role(role)] & (token.scopes if token is not None else ALL_SCOPES)
        if scope is not None and scope not in scopes:
            return 403, "insufficient-scope"
        if org.require_2fa and user != TWO_FACTOR_USER and not second_factor:
            return 401, "2fa-required"
        if token is None:
            return 200, ""
        if token.label in org.revoked_here:
            return 403, "personal-token-revoked"
        refusal = ""
        limit, lifetime = org.max_lifetime_days, token.lifetime_days
        if not org.allow_personal_tokens:
            refusal = "personal-token-denied"
        elif limit is not None and (lifetime is None or lifetime > limit):
            refusal = "personal-token-lifetime-exceeded"
        if refusal and not org.report_only:
            return 403, refusal
        return 200, ""

    def visible(self, token: Token | None, user: int | None) -> set[str]:
        """Which of this run's organizations ``GET /organizations/`` should list: those the
        credential may enter, and those that only want a second factor first. A personal token
        is listed by its personal-token rules, whatever the second-factor state."""
        if token is not None and token.kind == "organization":
            return {token.organization} if token.organization else set()
        as_if_enrolled = token is not None
        return {
            org.slug
            for org in self.organizations
            if self.expected(token, user, org, None, second_factor=as_if_enrolled)
            in ((200, ""), (401, "2fa-required"))
        }

    def callers(self) -> list[tuple[str, Token | None, int | None]]:
        people: list[tuple[str, Token | None, int | None]] = [
            (f"session of user {user}", None, user) for user in range(USERS)
        ]
        return people + [(token.label, token, token.user) for token in self.tokens]

    def ask(self, token: Token | None, user: int | None, path: str) -> httpx.Response:
        if token is not None:
            return self.as_bearer(token, path)
        assert user is not None
        return self.session(user).get(path)

    @invariant()
    def every_caller_gets_exactly_what_the_model_says(self) -> None:
        for label, token, user in self.callers():
            missing = {
                "org:read": self.ask(
                    token, user, f"/api/0/organizations/{self.cast.missing_slug}/"
                ),
                "project:read": self.ask(token, user, f"/api/0/projects/{MISSING_PROJECT}/"),
            }
            for org in self.organizations:
                routes = [("org:read", f"/api/0/organizations/{org.slug}/")]
                if token is None or token.state == "active":  # a dead token is refused anywhere
                    routes.append(("project:read", f"/api/0/projects/{org.project_id}/"))
                for scope, path in routes:
                    response = self.ask(token, user, path)
                    status, code = self.expected(token, user, org, scope)
                    where = f"{label} at {path} ({org})"
                    self.assert_invariants(token, user, org, response, missing[scope], where)
                    self.seen[self.situation(token, user, org, code)] += 1
                    if scope == "project:read" and status == 200:
                        self.seen["project reached"] += 1
                        assert response.json()["id"] == org.project_id, where
                    if status == 200 and token is not None and self.would_refuse(token, org):
                        self.seen["report mode let through"] += 1
                    assert response.status_code == status, f"{where}: {response.text}"
                    assert (error_code(response) or "") == code, f"{where}: {response.text}"

    def would_refuse(self, token: Token, org: Organization) -> bool:
        if token.kind != "personal":
            return False
        limit = org.max_lifetime_days
        too_long = limit is not None and (token.lifetime_days or limit + 1) > limit
        return not org.allow_personal_tokens or too_long

    def situation(self, token: Token | None, user: int | None, org: Organization, code: str) -> str:
        if code == "personal-token-denied":
            return "personal token denied"
        if code == "2fa-required":
            return "second factor required"
        if code == "personal-token-revoked":
            return "personal token revoked here"
        if code == "token-expired":
            return "expired token refused"
        if code == "invalid-token" and token is not None:
            return f"revoked {token.kind} token refused"
        if token is not None and token.kind == "organization":
            mine = token.organization == org.slug
            return (
                "organization token at home"
                if mine
                else "organization token at another organization"
            )
        if user not in org.roles:
            removed = (user, org.slug) in self.removed
            return "removed member refused" if removed else "non-member refused"
        return code or "allowed"

    def assert_invariants(
        self,
        token: Token | None,
        user: int | None,
        org: Organization,
        response: httpx.Response,
        missing: httpx.Response,
        where: str,
    ) -> None:
        allowed = 200 <= response.status_code < 300
        if token is not None and token.state != "active":
            assert not allowed, f"a {token.state} token worked: {where}"
        denied = not org.allow_personal_tokens and not org.report_only
        if token is not None and token.kind == "personal" and denied:
            assert not allowed, f"a personal token got in where they are denied: {where}"
        if org.require_2fa and user is not None and user != TWO_FACTOR_USER:
            assert not allowed, f"a member without a second factor got in: {where}"
        if token is not None and token.label in org.revoked_here:
            assert not allowed, f"a token revoked here got in: {where}"
        if token is not None and token.kind == "organization" and token.organization != org.slug:
            assert not allowed, f"an organization token reached another organization: {where}"
        if token is not None and token.kind == "organization":
            outsider = token.organization != org.slug
        else:
            outsider = user not in org.roles
            assert not (outsider and allowed), f"a non-member (or removed member) got in: {where}"
        if outsider:  # the answer must be the one for a slug that does not exist, byte for byte
            assert response.status_code == missing.status_code, f"existence leaked: {where}"
            assert response.content == missing.content, f"existence leaked: {where}"

    @invariant()
    def nobody_lists_what_they_may_not_see(self) -> None:
        ours = {org.slug for org in self.organizations}
        for label, token, user in self.callers():
            response = self.ask(token, user, "/api/0/organizations/")
            if token is not None and token.state != "active":
                assert response.status_code == 401, f"{label}: {response.text}"
                continue
            assert response.status_code == 200, f"{label}: {response.text}"
            listed = {org["slug"] for org in response.json()} & ours
            assert listed == self.visible(token, user), label


def _enrol(session: ApiClient) -> None:
    setup = session.post("/api/0/users/me/2fa/setup/")
    assert setup.status_code == 201, setup.text
    code = pyotp.TOTP(setup.json()["secret"]).now()
    confirmed = session.post("/api/0/users/me/2fa/confirm/", json={"code": code})
    assert confirmed.status_code == 200, confirmed.text


@pytest.mark.slow  # Hypothesis runs many programs of many steps
def test_access_invariants_hold_after_every_step(world: World) -> None:
    accounts = [world.user(f"Person {index}") for index in range(USERS)]
    sessions = [world.login(account) for account in accounts]
    _enrol(sessions[TWO_FACTOR_USER])
    AccessMachine.cast = _expiring_tokens(world, accounts, sessions)
    AccessMachine.seen = Counter()
    run_state_machine_as_test(AccessMachine, settings=SETTINGS)
    unseen = SITUATIONS - set(AccessMachine.seen)
    assert not unseen, f"the run never checked: {sorted(unseen)} (saw {AccessMachine.seen})"
