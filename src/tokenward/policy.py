"""The rule: may this credential act in this organization? Pure; imports only our vocabulary.

``decide`` is the only place that answers that question. Every entry point (API routes by
organization slug, routes that find the organization by loading an object, organization lists,
web pages) asks it and acts on its ``Decision``. The order of its checks is part of the contract:
membership (404, so outsiders learn nothing) -> scope -> session and role rules -> the
organization's two-factor requirement -> its SSO requirement for sessions (an owner's password
session may still reach what a requirement marks as break-glass) -> its personal-token rules
(revoked here, denied, lifetime limit, SSO authorization; in report mode denied and lifetime
limit let the request through and say what they would have done).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tokenward.refusals import Refusal
from tokenward.scopes import Scope

__all__ = [
    "ALL_SCOPES",
    "ROLE_SCOPES",
    "Credential",
    "CredentialKind",
    "Decision",
    "Enforcement",
    "OrganizationPolicy",
    "Requirement",
    "Role",
    "decide",
    "effective_scopes",
    "role_needed_to_manage",
]


class Role(enum.Enum):
    MEMBER = "member"
    MANAGER = "manager"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]


_ROLE_RANK = {Role.MEMBER: 0, Role.MANAGER: 1, Role.OWNER: 2}

ALL_SCOPES: frozenset[str] = frozenset(Scope)
_MEMBER_SCOPES = frozenset(
    {Scope.ORG_READ, Scope.MEMBER_READ, Scope.PROJECT_READ, Scope.PROJECT_WRITE}
)
_MANAGER_SCOPES = _MEMBER_SCOPES | {
    Scope.ORG_WRITE,
    Scope.MEMBER_WRITE,
    Scope.MEMBER_ADMIN,
    Scope.PROJECT_ADMIN,
}
ROLE_SCOPES: Mapping[Role, frozenset[str]] = MappingProxyType(
    {Role.MEMBER: _MEMBER_SCOPES, Role.MANAGER: _MANAGER_SCOPES, Role.OWNER: ALL_SCOPES}
)


class CredentialKind(enum.Enum):
    SESSION = "session"
    PERSONAL_TOKEN = "personal-token"
    ORGANIZATION_TOKEN = "organization-token"


@dataclass(frozen=True, slots=True)
class Credential:
    """What the rule needs to know about the caller's credential, nothing more.

    ``scopes`` are the token's own scopes (a session carries every scope; its role limits it).
    ``organization_id`` binds an organization token to its one organization.
    """

    kind: CredentialKind
    scopes: frozenset[str] = ALL_SCOPES
    organization_id: str | None = None
    token_id: str | None = None
    created_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    two_factor: bool = False
    # Organization ids: where a session signed in through the organization's SSO, or where a
    # personal token was authorized through an SSO flow.
    sso_organizations: frozenset[str] = frozenset()

    def lifetime_exceeds(self, days: int) -> bool:
        """True when the token never expires or was minted to live longer than ``days``."""
        if self.expires_at is None or self.created_at is None:
            return True
        return self.expires_at - self.created_at > dt.timedelta(days=days)


class Enforcement(enum.Enum):
    """``report`` lets personal-token requests through that the rules would refuse, and says so."""

    ENFORCE = "enforce"
    REPORT = "report"


@dataclass(frozen=True, slots=True)
class OrganizationPolicy:
    """An organization's own rules for the credentials that act on it."""

    organization_id: str
    slug: str
    allow_personal_tokens: bool = True
    personal_token_enforcement: Enforcement = Enforcement.ENFORCE
    personal_token_max_lifetime_days: int | None = None
    require_2fa: bool = False
    revoked_personal_tokens: frozenset[str] = frozenset()
    require_sso: bool = False


@dataclass(frozen=True, slots=True)
class Requirement:
    """What an operation needs: a scope (or none), a browser session, a minimum role.

    ``sso_break_glass`` marks the organization's SSO and security settings: an owner whose
    session did not come through SSO may still reach them (when the identity provider is down).
    """

    scope: str | None = None
    session_only: bool = False
    minimum_role: Role | None = None
    # Only the organization's own tokens (e.g. SCIM, which an identity provider holds).
    organization_token_only: bool = False
    sso_break_glass: bool = False

    def tightened(
        self,
        *,
        session_only: bool = False,
        minimum_role: Role | None = None,
        sso_break_glass: bool | None = None,
    ) -> Requirement:
        role = self.minimum_role
        if minimum_role is not None and (role is None or minimum_role.rank > role.rank):
            role = minimum_role
        glass = self.sso_break_glass if sso_break_glass is None else sso_break_glass
        return Requirement(
            self.scope,
            self.session_only or session_only,
            role,
            self.organization_token_only,
            glass,
        )


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    status: int = 200
    code: Refusal | None = None
    message: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()
    # In report mode: the code that enforcement would have answered with, though allowed.
    report_only: Refusal | None = None
    # Allowed only as break-glass: an owner's password session while SSO is required (audited).
    break_glass: bool = False


_NOT_FOUND = Decision(False, 404, Refusal.NOT_FOUND, "The requested resource does not exist.")


def effective_scopes(credential: Credential, role: Role | None) -> frozenset[str]:
    if credential.kind is CredentialKind.ORGANIZATION_TOKEN:
        return credential.scopes
    if role is None:
        return frozenset()
    return credential.scopes & ROLE_SCOPES[role]


def decide(
    credential: Credential,
    organization: OrganizationPolicy | None,
    role: Role | None,
    requirement: Requirement,
) -> Decision:
    """Decide whether ``credential`` may do what ``requirement`` asks in ``organization``.

    ``role`` is the caller's membership role there, or None when the caller is not a member
    (always None for organization tokens, which have no user).
    """
    if organization is None:
        return _NOT_FOUND
    if credential.kind is CredentialKind.ORGANIZATION_TOKEN:
        if credential.organization_id != organization.organization_id:
            return _NOT_FOUND
    elif role is None:
        return _NOT_FOUND

    scopes = effective_scopes(credential, role)
    if requirement.scope is not None and requirement.scope not in scopes:
        return Decision(
            False,
            403,
            Refusal.INSUFFICIENT_SCOPE,
            f"This credential lacks the '{requirement.scope}' scope in this organization.",
            {"required": requirement.scope},
        )
    if requirement.session_only and credential.kind is not CredentialKind.SESSION:
        return Decision(
            False,
            403,
            Refusal.SESSION_REQUIRED,
            "This action needs a signed-in browser session; API tokens cannot perform it.",
        )
    if (
        requirement.organization_token_only
        and credential.kind is not CredentialKind.ORGANIZATION_TOKEN
    ):
        return Decision(
            False,
            403,
            Refusal.ORGANIZATION_TOKEN_REQUIRED,
            "This endpoint is for the organization's own tokens: an owner creates one with the "
            "needed scope on the organization's Tokens page.",
        )
    if requirement.minimum_role is not None and (
        role is None or role.rank < requirement.minimum_role.rank
    ):
        needed = requirement.minimum_role.value
        return Decision(
            False,
            403,
            Refusal.FORBIDDEN,
            f"Only an organization {needed} may do this.",
            {"required_role": needed},
        )
    if (
        organization.require_2fa
        and credential.kind is not CredentialKind.ORGANIZATION_TOKEN
        and not credential.two_factor
    ):
        return Decision(
            False,
            401,
            Refusal.TWO_FACTOR_REQUIRED,
            f"The organization '{organization.slug}' requires two-factor authentication. "
            "Enrol an authenticator app at /settings/account/security/ and sign in again.",
            {"organization": organization.slug},
        )
    signed_in_through_sso = organization.organization_id in credential.sso_organizations
    if (
        organization.require_sso
        and credential.kind is CredentialKind.SESSION
        and not signed_in_through_sso
    ):
        if requirement.sso_break_glass and role is Role.OWNER:
            return Decision(True, 200, scopes=scopes, break_glass=True)
        slug = organization.slug
        return Decision(
            False,
            401,
            Refusal.SSO_REQUIRED,
            f"The organization '{slug}' requires signing in through its identity provider. "
            f"Sign in at /auth/login/{slug}/.",
            {"organization": slug, "loginUrl": f"/auth/login/{slug}/"},
        )
    if credential.kind is CredentialKind.PERSONAL_TOKEN:
        return _personal_token_decision(credential, organization, scopes)
    return Decision(True, 200, scopes=scopes)


def _personal_token_decision(
    credential: Credential, organization: OrganizationPolicy, scopes: frozenset[str]
) -> Decision:
    """The organization's rules for personal tokens, in order. Report mode lets a denial or a
    lifetime limit through (and says so); a revocation or a missing SSO authorization never."""
    reported: Refusal | None = None
    for refusal in (
        _revoked_here(credential, organization),
        _denied(organization),
        _lifetime_exceeded(credential, organization),
    ):
        if refusal is None:
            continue
        relaxed = refusal.code is not Refusal.PERSONAL_TOKEN_REVOKED and (
            organization.personal_token_enforcement is Enforcement.REPORT
        )
        if not relaxed:
            return refusal
        reported = reported or refusal.code
    if organization.require_sso and organization.organization_id not in (
        credential.sso_organizations
    ):
        slug = organization.slug
        url = f"/auth/login/{slug}/?token={credential.token_id}"
        return Decision(
            False,
            403,
            Refusal.PERSONAL_TOKEN_SSO_UNAUTHORIZED,
            f"The organization '{slug}' requires SSO: authorize this personal token for it "
            f"through its identity provider at {url} (signed in as the token's owner).",
            {"organization": slug, "authorizeUrl": url},
        )
    return Decision(True, 200, scopes=scopes, report_only=reported)


def _revoked_here(credential: Credential, organization: OrganizationPolicy) -> Decision | None:
    slug = organization.slug
    if (
        credential.token_id is not None
        and credential.token_id in organization.revoked_personal_tokens
    ):
        return Decision(
            False,
            403,
            Refusal.PERSONAL_TOKEN_REVOKED,
            f"An owner of '{slug}' revoked this token's access to the organization. It still "
            "works in your other organizations; use an organization token here.",
            {"organization": slug},
        )
    return None


def _denied(organization: OrganizationPolicy) -> Decision | None:
    slug = organization.slug
    if not organization.allow_personal_tokens:
        return Decision(
            False,
            403,
            Refusal.PERSONAL_TOKEN_DENIED,
            f"The organization '{slug}' does not allow personal API tokens. "
            "Ask an organization owner or manager for an organization token, "
            "or sign in with a browser session.",
            {"organization": slug},
        )
    return None


def _lifetime_exceeded(credential: Credential, organization: OrganizationPolicy) -> Decision | None:
    slug = organization.slug
    days = organization.personal_token_max_lifetime_days
    if days is not None and credential.lifetime_exceeds(days):
        return Decision(
            False,
            403,
            Refusal.PERSONAL_TOKEN_LIFETIME_EXCEEDED,
            f"The organization '{slug}' accepts personal tokens that expire within {days} days "
            "of their creation. Create a new personal token with an expires_at no more than "
            f"{days} days ahead, or use an organization token.",
            {"organization": slug, "max_lifetime_days": days},
        )
    return None


def role_needed_to_manage(target_role: Role | None, new_role: Role | None) -> Role | None:
    """The minimum role needed to give ``new_role`` to, or change or remove, a ``target_role``.

    Owners are managed only by owners: adding or promoting an owner, demoting an owner or removing
    one all need the owner role. Anything else needs no more than the route's scope.
    """
    if target_role is Role.OWNER or new_role is Role.OWNER:
        return Role.OWNER
    return None
