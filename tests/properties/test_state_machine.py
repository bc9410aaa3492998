"""Hypothesis drives organizations, members, roles, both kinds of token and the organization's
rules (the personal-token switch, report mode, a lifetime limit, required 2FA, tokens revoked for
one organization, SSO: its configuration, required or not, sign-ins and personal-token
authorizations walked through a real OpenID provider) through the HTTP API, keeps a model of what
should be true, and after every step asks the live server, with every credential, about every
organization and its project (a route that learns its organization from the object), and each
owner's and manager's session about the organization's SSO settings (an owner's break-glass):

- a personal token never gets a 2xx on an organization that denies personal tokens;
- a removed member's tokens and session never reach that organization;
- a revoked or expired token never works anywhere;
- an organization token never reaches another organization;
- a non-member never learns whether an organization exists: the same 404 body as for a slug
  that does not exist, and no trace of it in the list of organizations;
- where SSO is required, a session that did not sign in through it and a personal token not
  authorized through it never get in; organization tokens are not affected.

Each answer must also be exactly the one the model predicts (200, 401, 403 or 404 and its code),
and so must every owner's attempt to change something.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, Literal
from urllib.parse import urlsplit

import httpx
import pyotp
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.leakwatch import WATCH
from tests.sso.provider import IdentityProvider
from tests.sso.rows import shared_provider
from tests.support import ApiClient, UserAccount, World, error_code, unique
from tokenward.policy import ALL_SCOPES, ROLE_SCOPES, Role

USERS = 4
MANAGE = ("owner", "manager")
MAX_ORGANIZATIONS = 3
MAX_PERSONAL_TOKENS = 8
MAX_ORGANIZATION_TOKENS = 5
PERSONAL_SCOPES = [sorted(ALL_SCOPES), ["org:read"], ["project:read", "project:write"]]
ORGANIZATION_SCOPES = [["org:read", "project:read"], ["project:read"]]
ROLES = [role.value for role in Role]
TWO_FACTOR_USER = USERS - 1  # the one person with an authenticator
LIFETIMES = [None, 7]  # days a personal token is minted to live (None: never expires)
LIMITS = [None, 30, 3]  # an organization's maximum personal-token lifetime
SSO_CLIENTS = [None, "tokenward", "tokenward-rotated"]  # None: the configuration is removed
SSO_SECRET = "a-client-secret-for-the-state-machine"
WATCH.secret(SSO_SECRET, "an SSO client secret")

# Deterministic and bounded. No shrinking: every step costs requests to a live server, and a
# failing run of at most a dozen steps reads well as it is.
SETTINGS = settings(
    max_examples=4,
    stateful_step_count=9,
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
    "session sent to SSO",
    "session signed in through SSO let through",
    "personal token not authorized through SSO",
    "personal token authorized through SSO let through",
    "second factor asked before SSO",
    "personal-token rule before SSO authorization",
    "organization token where SSO is required",
    "owner's break-glass to the SSO settings",
}

State = Literal["active", "revoked", "expired"]
MISSING_PROJECT = "999999999"
UNREAD_ID = "0"  # in a path whose request the organization's rules refuse before reading it
LISTED = {(200, ""), (401, "2fa-required"), (401, "sso-required")}
UNAUTHORIZED = (403, "personal-token-sso-unauthorized")


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
    sso_client: str | None = None  # the client id of its SSO configuration
    auto_provision: bool = False
    require_sso: bool = False
    sso_signed_in: set[int] = field(default_factory=set)  # users whose session came through SSO
    sso_authorized: set[str] = field(default_factory=set)  # token labels

    def holding(self, *roles: str) -> list[int]:
        return sorted(user for user, role in self.roles.items() if role in roles)


@dataclass
class Cast:
    """Created once per test: the people, their sessions, and tokens that have already expired."""

    world: World
    accounts: list[UserAccount]
    sessions: list[ApiClient]
    bearer: ApiClient  # no cookie: the Authorization header alone decides
    expired: list[Token]
    missing_slug: str
    provider: IdentityProvider
    subjects: list[str]  # each person at the identity provider


_EXPIRING_SECONDS = 5  # long enough to mint three tokens and see them work, under load too


def _expiring_tokens(world: World, accounts: list[UserAccount], sessions: list[ApiClient]) -> Cast:
    """Mint tokens that expire in a few seconds, see them work, and wait until they have expired.
    The clock starts once the organization exists: on a loaded machine making it takes seconds."""
    slug = world.organization(sessions[0])
    world.add_member(sessions[0], slug, accounts[1], "member")
    expires_at = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=_EXPIRING_SECONDS)).isoformat()
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
    provider = shared_provider()
    subjects = [provider.person(account.email) for account in accounts]
    return Cast(world, accounts, sessions, bearer, expired, unique("missing"), provider, subjects)


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

    def pick_actor(self, data: st.DataObject, organization: Organization, *roles: str) -> int:
        """Any owner (or holder of ``roles``), those the organization's rules let act first:
        one they stop is refused."""
        holders = organization.holding(*(roles or ("owner",)))
        holders.sort(key=lambda user: self.expected(None, user, organization, None) != (200, ""))
        actor: int = data.draw(st.sampled_from(holders), label="actor")
        return actor

    def refused(
        self,
        organization: Organization,
        actor: int,
        response: httpx.Response,
        *,
        break_glass: bool = False,
    ) -> bool:
        """Whether the model stops ``actor``'s session here (a second factor or an SSO sign-in
        missing), after checking that the server answered exactly that refusal."""
        status, code = self.expected(None, actor, organization, None, break_glass=break_glass)
        if status == 200:
            return False
        assert response.status_code == status, response.text
        assert error_code(response) == code, response.text
        return True

    def member_id(self, organization: Organization, actor: int, user: int) -> str:
        """The membership's id; one made by an SSO sign-in is looked up by an actor who may."""
        if (
            user not in organization.member_ids
            and self.expected(None, actor, organization, None)[0] == 200
        ):
            listed = self.session(actor).get(f"/api/0/organizations/{organization.slug}/members/")
            assert listed.status_code == 200, listed.text
            email = self.cast.accounts[user].email
            found = [m["id"] for m in listed.json() if m["user"]["email"] == email]
            organization.member_ids[user] = found[0]
        return organization.member_ids.get(user, UNREAD_ID)

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
            self.set_enforcement(organization, owner, report=True)
        if require_2fa:
            self.require_2fa_from_start(organization, owner)

    def set_enforcement(self, organization: Organization, owner: int, *, report: bool) -> None:
        enforcement = "report" if report else "enforce"
        response = self.put_settings(organization, owner, personal_token_enforcement=enforcement)
        assert response is not None and response.status_code == 200, response
        organization.report_only = report

    def require_2fa_from_start(self, organization: Organization, owner: int) -> None:
        """By an owner with a second factor, as only they may."""
        self.make_owner(organization, owner, TWO_FACTOR_USER)
        response = self.put_settings(organization, TWO_FACTOR_USER, require_2fa=True)
        assert response is not None and response.status_code == 200, response
        organization.require_2fa = True

    @initialize(
        owner=st.integers(0, USERS - 1),
        other=st.integers(1, USERS - 1),
        role=st.sampled_from(ROLES),
        require_2fa=st.booleans(),
    )
    def an_organization_that_requires_sso(
        self, owner: int, other: int, role: str, require_2fa: bool
    ) -> None:
        """SSO required by an owner who signed in through it, while the first owner keeps a
        password session (break-glass). Personal tokens are denied in report mode, which never
        relaxes SSO: the member has a token authorized through SSO, one revoked for the
        organization and one revoked everywhere; the owner's token is not authorized. One
        organization token is revoked; someone was a member and was removed."""
        member = (owner + other) % USERS
        self.create_organization(owner)
        organization = self.organizations[-1]
        self.add(organization, owner, member, role)
        self.mint(organization, owner, ORGANIZATION_SCOPES[1])
        self.revoke_organization_token_as(owner, self.tokens[-1])
        self.mint(organization, owner, ORGANIZATION_SCOPES[0])
        self.set_enforcement(organization, owner, report=True)
        self.flip(organization, owner, allow=False)
        for user in (member, member, member, owner):
            self.mint_personal_token(user, sorted(ALL_SCOPES), LIFETIMES[-1])
        authorized, revoked_here, revoked, _ = self.tokens[-4:]
        self.revoke_here(organization, owner, revoked_here)
        self.revoke_personal_token_as(revoked)
        left = min(set(range(USERS)) - {owner, member, TWO_FACTOR_USER})
        self.add(organization, owner, left, "member")
        self.remove(organization, owner, left)
        if require_2fa:
            self.require_2fa_from_start(organization, owner)
        self.make_owner(organization, owner, TWO_FACTOR_USER)
        self.configure(organization, TWO_FACTOR_USER, "tokenward", auto_provision=False)
        self.sign_in(organization, TWO_FACTOR_USER)
        self.set_require_sso(organization, TWO_FACTOR_USER, True)
        self.authorize(organization, authorized, honest=True)  # signs the member in too

    def make_owner(self, organization: Organization, owner: int, user: int) -> None:
        if user not in organization.roles:
            self.add(organization, owner, user, "owner")
        elif organization.roles[user] != "owner":
            member_id = organization.member_ids[user]
            promoted = self.session(owner).put(
                f"/api/0/organizations/{organization.slug}/members/{member_id}/",
                json={"role": "owner"},
            )
            assert promoted.status_code == 200, promoted.text
            organization.roles[user] = "owner"

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
        self.add(organization, self.pick_actor(data, organization), user, role)

    def add(self, organization: Organization, actor: int, user: int, role: str) -> None:
        response = self.session(actor).post(
            f"/api/0/organizations/{organization.slug}/members/",
            json={"email": self.cast.accounts[user].email, "role": role},
        )
        if self.refused(organization, actor, response):
            return
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
        actor = self.pick_actor(data, organization)
        user = data.draw(st.sampled_from(sorted(organization.roles)), label="removed user")
        member_id = self.member_id(organization, actor, user)
        response = self.session(actor).delete(
            f"/api/0/organizations/{organization.slug}/members/{member_id}/"
        )
        if self.refused(organization, actor, response):
            return
        if organization.holding("owner") == [user]:
            assert response.status_code == 409, response.text
            return
        assert response.status_code == 204, response.text
        self.forget_member(organization, user)

    def remove(self, organization: Organization, actor: int, user: int) -> None:
        path = f"/api/0/organizations/{organization.slug}/members/"
        response = self.session(actor).delete(f"{path}{organization.member_ids[user]}/")
        assert response.status_code == 204, response.text
        self.forget_member(organization, user)

    def forget_member(self, organization: Organization, user: int) -> None:
        del organization.roles[user]
        del organization.member_ids[user]
        self.removed.add((user, organization.slug))
        # Their tokens' SSO authorizations lapse, and so does their session's SSO sign-in.
        organization.sso_authorized -= {t.label for t in self.tokens if t.user == user}
        organization.sso_signed_in.discard(user)

    @rule(data=st.data(), role=st.sampled_from(ROLES))
    def change_role(self, data: st.DataObject, role: str) -> None:
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        actor = self.pick_actor(data, organization)
        user = data.draw(st.sampled_from(sorted(organization.roles)), label="member")
        member_id = self.member_id(organization, actor, user)
        response = self.session(actor).put(
            f"/api/0/organizations/{organization.slug}/members/{member_id}/",
            json={"role": role},
        )
        if self.refused(organization, actor, response):
            return
        if organization.holding("owner") == [user] and role != "owner":
            assert response.status_code == 409, response.text
            return
        assert response.status_code == 200, response.text
        organization.roles[user] = role

    @rule(data=st.data(), allow=st.booleans())
    def flip_personal_tokens(self, data: st.DataObject, allow: bool) -> None:
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        self.flip(organization, self.pick_actor(data, organization), allow)

    def put_settings(
        self, organization: Organization, actor: int, **settings: object
    ) -> httpx.Response | None:
        """An owner changes the organization's rules (break-glass); None when the model says
        the actor is refused (and the server agreed)."""
        response = self.session(actor).put(
            f"/api/0/organizations/{organization.slug}/", json={"settings": settings}
        )
        return None if self.refused(organization, actor, response, break_glass=True) else response

    def flip(self, organization: Organization, actor: int, allow: bool) -> None:
        response = self.put_settings(organization, actor, allow_personal_tokens=allow)
        if response is None:
            return
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
        actor = self.pick_actor(data, organization)
        response = self.put_settings(
            organization,
            actor,
            personal_token_enforcement="report" if report else "enforce",
            personal_token_max_lifetime_days=limit,
            require_2fa=require_2fa,
        )
        if response is None:
            return
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
        if not candidates:
            return
        token = data.draw(st.sampled_from(candidates), label="token")
        self.revoke_here(organization, self.pick_actor(data, organization), token)

    def revoke_here(self, organization: Organization, actor: int, token: Token) -> None:
        response = self.session(actor).delete(
            f"/api/0/organizations/{organization.slug}/personal-tokens/{token.id}/"
        )
        if self.refused(organization, actor, response):
            return
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
        self.revoke_personal_token_as(token)

    def revoke_personal_token_as(self, token: Token) -> None:
        assert token.user is not None
        response = self.session(token.user).delete(f"/api/0/users/me/tokens/{token.id}/")
        assert response.status_code == 204, response.text
        token.state = "revoked"

    @precondition(lambda self: self.count("organization") < MAX_ORGANIZATION_TOKENS)
    @rule(data=st.data(), scopes=st.sampled_from(ORGANIZATION_SCOPES))
    def mint_organization_token(self, data: st.DataObject, scopes: list[str]) -> None:
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        self.mint(organization, self.pick_actor(data, organization), scopes)

    def mint(self, organization: Organization, actor: int, scopes: list[str]) -> None:
        response = self.session(actor).post(
            f"/api/0/organizations/{organization.slug}/tokens/",
            json={"name": unique("sm"), "scopes": scopes},
        )
        if self.refused(organization, actor, response):
            return
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
        self.revoke_organization_token_as(self.pick_actor(data, organization), token)

    def revoke_organization_token_as(self, actor: int, token: Token) -> None:
        organization = next(o for o in self.organizations if o.slug == token.organization)
        response = self.session(actor).delete(
            f"/api/0/organizations/{organization.slug}/tokens/{token.id}/"
        )
        if self.refused(organization, actor, response):
            return
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

    # -- SSO ---------------------------------------------------------------------------------

    @rule(data=st.data(), client=st.sampled_from(SSO_CLIENTS), auto_provision=st.booleans())
    def configure_sso(self, data: st.DataObject, client: str | None, auto_provision: bool) -> None:
        """Set up, change (a new client ends every token authorization) or remove SSO."""
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        self.configure(organization, self.pick_actor(data, organization), client, auto_provision)

    def configure(
        self, organization: Organization, actor: int, client: str | None, auto_provision: bool
    ) -> None:
        path = f"/api/0/organizations/{organization.slug}/sso/"
        if client is None:
            response = self.session(actor).delete(path)
        else:
            body = {
                "issuer": self.cast.provider.issuer,
                "client_id": client,
                "client_secret": SSO_SECRET,
                "auto_provision": auto_provision,
            }
            response = self.session(actor).put(path, json=body)
        if self.refused(organization, actor, response, break_glass=True):
            return
        if client is None and organization.require_sso:
            assert response.status_code == 409, response.text
            return
        if client is None and organization.sso_client is None:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == (204 if client is None else 200), response.text
        if client != organization.sso_client:  # every session signs in through it again
            organization.sso_authorized.clear()
            organization.sso_signed_in.clear()
        organization.sso_client, organization.auto_provision = client, auto_provision

    @rule(data=st.data(), on=st.booleans())
    def require_sso(self, data: st.DataObject, on: bool) -> None:
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        self.set_require_sso(organization, self.pick_actor(data, organization), on)

    def set_require_sso(self, organization: Organization, actor: int, on: bool) -> None:
        response = self.put_settings(organization, actor, require_sso=on)
        if response is None:
            return
        turning_on = on and not organization.require_sso
        unready = organization.sso_client is None or actor not in organization.sso_signed_in
        if turning_on and unready:  # no configuration, or no lockout-proof owner session
            assert response.status_code == 400, response.text
            assert error_code(response) == "invalid-request", response.text
            return
        assert response.status_code == 200, response.text
        assert response.json()["settings"]["require_sso"] is on, response.text
        organization.require_sso = on

    @rule(data=st.data(), user=st.integers(0, USERS - 1))
    def sign_in_through_sso(self, data: st.DataObject, user: int) -> None:
        """A person's browser walks through the identity provider; a non-member gets in only
        by just-in-time provisioning."""
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        self.sign_in(organization, user)

    def sign_in(self, organization: Organization, user: int) -> None:
        start = f"/auth/login/{organization.slug}/"
        if organization.sso_client is None:
            answer = self.session(user).get(start, follow_redirects=False)
            assert answer.status_code == 404, answer.text
            return
        answer = self.through_provider(user, start, user)
        if user not in organization.roles and not organization.auto_provision:
            assert answer.status_code == 400, answer.text
            return
        assert answer.status_code == 303, answer.text
        if user not in organization.roles:
            organization.roles[user] = "member"
            self.removed.discard((user, organization.slug))
        organization.sso_signed_in.add(user)

    def through_provider(self, user: int, start: str, subject_of: int) -> httpx.Response:
        """``user``'s browser from ``start`` through the identity provider, signed in there as
        ``subject_of``; the answer to the callback."""
        began = self.session(user).get(start, follow_redirects=False)
        assert began.status_code == 303, began.text
        subject = self.cast.subjects[subject_of]
        callback = self.cast.provider.authorize(began.headers["location"], subject)
        return self.session(user).get(callback, follow_redirects=False)

    @precondition(lambda self: bool(self.minted_personal()))
    @rule(data=st.data(), honest=st.sampled_from([True, True, False]))
    def authorize_personal_token(self, data: st.DataObject, honest: bool) -> None:
        """The token's user asks where to authorize it and walks there, signing in at the
        provider as themselves or (refused, nothing changes) as someone else."""
        token = data.draw(st.sampled_from(self.minted_personal()), label="token")
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        self.authorize(organization, token, honest=honest)

    def minted_personal(self) -> list[Token]:
        return [t for t in self.minted() if t.kind == "personal"]

    def authorize(self, organization: Organization, token: Token, *, honest: bool) -> None:
        assert token.user is not None
        asked = self.session(token.user).post(
            f"/api/0/users/me/tokens/{token.id}/sso-authorizations/",
            json={"organization": organization.slug},
        )
        if token.state == "revoked":
            assert asked.status_code == 404, asked.text
            return
        if token.user not in organization.roles or organization.sso_client is None:
            assert asked.status_code == 400, asked.text
            return
        assert asked.status_code == 200, asked.text
        url = urlsplit(asked.json()["authorizeUrl"])
        assert url.path == f"/auth/login/{organization.slug}/", url
        signer = token.user if honest else (token.user + 1) % USERS
        answer = self.through_provider(token.user, f"{url.path}?{url.query}", signer)
        if not honest:
            assert answer.status_code == 400, answer.text
            return
        assert answer.status_code == 303, answer.text
        organization.sso_authorized.add(token.label)
        organization.sso_signed_in.add(token.user)  # the same walk signs the session in

    @rule(data=st.data())
    def revoke_sso_authorization(self, data: st.DataObject) -> None:
        """An owner or manager lists the authorizations (exactly the model's live ones) and
        revokes one."""
        organization = data.draw(st.sampled_from(self.organizations), label="organization")
        actor = self.pick_actor(data, organization, "owner", "manager")
        path = f"/api/0/organizations/{organization.slug}/credential-authorizations/"
        listed = self.session(actor).get(path)
        if self.refused(organization, actor, listed):
            return
        assert listed.status_code == 200, listed.text
        by_token = {entry["token"]["id"]: entry["id"] for entry in listed.json()}
        live = [t for t in self.active("personal") if t.label in organization.sso_authorized]
        assert set(by_token) == {t.id for t in live}, listed.text
        if not live:
            return
        token = data.draw(st.sampled_from(live), label="token")
        response = self.session(actor).delete(f"{path}{by_token[token.id]}/")
        assert response.status_code == 204, response.text
        organization.sso_authorized.discard(token.label)

    # -- what must hold after every step ---------------------------------------------------

    def expected(
        self,
        token: Token | None,
        user: int | None,
        org: Organization,
        scope: str | None,
        *,
        second_factor: bool = False,
        owner_only: bool = False,
        break_glass: bool = False,
    ) -> tuple[int, str]:
        """The answer to a request that needs ``scope`` in ``org``, per the model, in the order
        of the contract: credential -> membership -> scope -> role -> 2FA -> SSO for sessions
        -> the personal-token rules (revoked here, denied, lifetime, SSO authorization).
        ``second_factor`` asks as if the user had one (how lists judge personal tokens);
        ``owner_only`` for what only owners may do; ``break_glass`` for what an owner's session
        reaches without SSO while it is required."""
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
        if owner_only and role != "owner":
            return 403, "forbidden"
        if org.require_2fa and user != TWO_FACTOR_USER and not second_factor:
            return 401, "2fa-required"
        if token is None:
            glass = break_glass and role == "owner"
            if org.require_sso and user not in org.sso_signed_in and not glass:
                return 401, "sso-required"
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
        if org.require_sso and token.label not in org.sso_authorized:
            return 403, "personal-token-sso-unauthorized"  # report mode never relaxes it
        return 200, ""

    def visible(self, token: Token | None, user: int | None) -> set[str]:
        """Which of this run's organizations ``GET /organizations/`` should list: those the
        credential may enter, and those that only want a second factor or an SSO sign-in first.
        A personal token is listed by its personal-token rules, whatever the second-factor
        state."""
        if token is not None and token.kind == "organization":
            return {token.organization} if token.organization else set()
        return {
            org.slug for org in self.organizations if self.listed_as(token, user, org) in LISTED
        }

    def listed_as(
        self, token: Token | None, user: int | None, org: Organization
    ) -> tuple[int, str]:
        return self.expected(token, user, org, None, second_factor=token is not None)

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
                    self.seen.update(self.sso_situations(token, user, org, code))
                    if scope == "project:read" and status == 200:
                        self.seen["project reached"] += 1
                        assert response.json()["id"] == org.project_id, where
                    if status == 200 and token is not None and self.would_refuse(token, org):
                        self.seen["report mode let through"] += 1
                    assert response.status_code == status, f"{where}: {response.text}"
                    assert (error_code(response) or "") == code, f"{where}: {response.text}"
                if token is None and user is not None and org.roles.get(user, "") in MANAGE:
                    self.check_sso_settings(label, user, org)

    def check_sso_settings(self, label: str, user: int, org: Organization) -> None:
        """The organization's SSO settings: owners only (a manager is refused), and an owner's
        session reaches them while SSO is required even without signing in through it
        (break-glass)."""
        path = f"/api/0/organizations/{org.slug}/sso/"
        response = self.session(user).get(path)
        status, code = self.expected(
            None, user, org, "org:write", owner_only=True, break_glass=True
        )
        if status == 200 and org.sso_client is None:
            status, code = 404, "not-found"
        if status == 200 and org.require_sso and user not in org.sso_signed_in:
            self.seen["owner's break-glass to the SSO settings"] += 1
        where = f"{label} at {path} ({org})"
        assert response.status_code == status, f"{where}: {response.text}"
        assert (error_code(response) or "") == code, f"{where}: {response.text}"

    def would_refuse(self, token: Token, org: Organization) -> bool:
        if token.kind != "personal":
            return False
        limit = org.max_lifetime_days
        too_long = limit is not None and (token.lifetime_days or limit + 1) > limit
        return not org.allow_personal_tokens or too_long

    def sso_situations(
        self, token: Token | None, user: int | None, org: Organization, code: str
    ) -> Iterable[str]:
        if not org.require_sso or (token is not None and token.state != "active"):
            return
        if token is not None and token.kind == "organization":
            if token.organization == org.slug and not code:
                yield "organization token where SSO is required"
            return
        if token is None:
            through_sso = user in org.sso_signed_in
            let_through = "session signed in through SSO let through"
        else:
            through_sso = token.label in org.sso_authorized
            let_through = "personal token authorized through SSO let through"
        if code == "sso-required":
            yield "session sent to SSO"
        elif code == "personal-token-sso-unauthorized":
            yield "personal token not authorized through SSO"
        elif not code and through_sso:
            yield let_through
        elif code == "2fa-required" and not through_sso:
            yield "second factor asked before SSO"
        elif code.startswith("personal-token-") and not through_sso:
            yield "personal-token rule before SSO authorization"

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
        if org.require_sso and token is None and user not in org.sso_signed_in:
            assert not allowed, f"a session that never signed in through SSO got in: {where}"
        unauthorized = token is not None and token.label not in org.sso_authorized
        if org.require_sso and token is not None and token.kind == "personal" and unauthorized:
            assert not allowed, f"a personal token not authorized through SSO got in: {where}"
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
            # Left out only for a missing SSO authorization: named, so the user can authorize.
            header = response.headers.get("Tokenward-SSO", "partial-results; organizations=")
            prefix, _, slugs = header.partition("; organizations=")
            assert prefix == "partial-results", f"{label}: {header}"
            unauthorized = {
                o.slug for o in self.organizations if self.listed_as(token, user, o) == UNAUTHORIZED
            }
            assert set(slugs.split(",")) & ours == unauthorized, f"{label}: {header}"


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
