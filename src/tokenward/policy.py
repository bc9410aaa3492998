"""The rule: may this credential act in this organization? Pure; imports only our vocabulary.

``decide`` is the only place that answers that question. Every entry point (API routes by
organization slug, routes that find the organization by loading an object, organization lists,
web pages) asks it and acts on its ``Decision``. The order of its checks is part of the contract:
membership (404, so outsiders learn nothing) -> scope -> session and role rules -> the
organization's two-factor requirement -> its personal-token rules (revoked here, denied, lifetime
limit; in report mode the last two let the request through and say what they would have done).
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


@dataclass(frozen=True, slots=True)
class Requirement:
    """What an operation needs: a scope (or none), a browser session, a minimum role."""

    scope: str | None = None
    session_only: bool = False
    minimum_role: Role | None = None

    def tightened(
        self, *, session_only: bool = False, minimum_role: Role | None = None
    ) -> Requirement:
        role = self.minimum_role
        if minimum_role is not None and (role is None or minimum_role.rank > role.rank):
            role = minimum_role
        return Requirement(self.scope, self.session_only or session_only, role)


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
    if credential.kind is CredentialKind.PERSONAL_TOKEN:
        refusal = _personal_token_refusal(credential, organization)
        if refusal is not None:
            if (
                refusal.code is not Refusal.PERSONAL_TOKEN_REVOKED
                and organization.personal_token_enforcement is Enforcement.REPORT
            ):
                return Decision(True, 200, scopes=scopes, report_only=refusal.code)
            return refusal
    return Decision(True, 200, scopes=scopes)


def _personal_token_refusal(
    credential: Credential, organization: OrganizationPolicy
) -> Decision | None:
    """The organization's rules for personal tokens, in order; None when none refuses."""
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
