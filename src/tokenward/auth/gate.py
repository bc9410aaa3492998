"""The organization gate: every route declares its access, and organization routes pass ``decide``.

Routes depend on exactly one of ``public()``, ``user_level(...)``, ``organization_access(...)`` or
``project_access(...)``. Each returns a FastAPI dependency marked with its kind, so the route
inventory (``auth.inventory``) can prove that no route forgot the check. Organization access reads
the organization and the caller's membership in one query and asks ``policy.decide``; routes that
only learn the organization after loading an object (``/projects/{id}/``) do the same with that
object's organization.

Admission is also the only way to organization-owned data. The gate alone makes an
``AdmittedOrganization`` (``tokenward.store.admission``), carried by the ``OrganizationContext``
it returns, and every reader of an organization's data takes one: a route that names an
organization any other way (a ``user_level`` route reading ``{slug}``, say) cannot call them.

How to add an organization route:

1. Put it under ``/organizations/{org}/`` and depend on ``organization_access(scope, ...)``, or,
   when the organization is known only from an object, on a gate like ``project_access`` that
   loads the object and admits its organization. Never load an organization yourself.
2. Read and write the organization's data only through ``context`` (``context.db``,
   ``context.admitted``), passing ``context.admitted`` to readers such as ``members_of``.
3. A new reader of organization-owned data takes ``organization: AdmittedOrganization`` and
   queries by ``admitted_id(organization)``, never by an ``int`` id or an ``Organization`` row.
4. A stricter need known only from the body or an object: ``refine=`` or ``context.require``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.auth.gatekeeper import Gatekeeper
from tokenward.auth.middleware import AUTHENTICATION_KEY
from tokenward.auth.principal import ANONYMOUS, Authentication, Principal
from tokenward.errors import ApiError
from tokenward.http.before_response import before_response
from tokenward.http.json_depth import too_deep
from tokenward.http.report_only import REPORT_ONLY_KEY
from tokenward.policy import (
    CredentialKind,
    Decision,
    Enforcement,
    OrganizationPolicy,
    Requirement,
    Role,
    decide,
)
from tokenward.store.admission import AdmittedOrganization, claim_issuer
from tokenward.store.audit import record_event
from tokenward.store.engine import Store, close_quietly
from tokenward.store.gatekeeping import find_project
from tokenward.store.ids import parse_id
from tokenward.store.tables import Organization, Project

__all__ = [
    "ACCESS_ATTRIBUTE",
    "BREAK_GLASS_KEY",
    "REQUIREMENT_ATTRIBUTE",
    "SSO_HEADER",
    "Access",
    "OrganizationContext",
    "ProjectContext",
    "admit_named",
    "authentication_of",
    "client_ip",
    "database",
    "organization_access",
    "policy_of",
    "project_access",
    "public",
    "require_principal",
    "user_level",
]

Access = Literal["public", "user", "organization"]
SSO_HEADER = "Tokenward-SSO"
# Set on a request an owner's password session made as break-glass (pages say so in red).
BREAK_GLASS_KEY = "tokenward.sso_break_glass"
ACCESS_ATTRIBUTE = "__tokenward_access__"
# What a gated route asks of the rule before any refinement (read by the fuzz tests' oracle).
REQUIREMENT_ATTRIBUTE = "__tokenward_requirement__"

# Given the route's requirement and the request body (parsed JSON, or None), a refinement returns
# a stricter requirement, e.g. owner + session when the body touches security settings.
Refinement = Callable[[Requirement, Any], Requirement]

# The one issuer of admissions: nothing but this module can admit an organization.
_admit_organization = claim_issuer()

# Requests that may change data read the organization fresh from the store (see gatekeeper).
_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class OrganizationContext:
    """An organization the caller has been allowed into, and what the caller may do there."""

    db: AsyncSession
    principal: Principal
    organization: Organization
    role: Role | None
    scopes: frozenset[str]
    ip_address: str | None
    admitted: AdmittedOrganization

    def __post_init__(self) -> None:
        if not isinstance(self.admitted, AdmittedOrganization) or (
            self.admitted.id != self.organization.id
        ):
            raise TypeError(
                "An OrganizationContext needs the gate's admission of its organization."
            )

    def allows(self, requirement: Requirement) -> bool:
        """Whether the rule would let this caller do ``requirement`` here (e.g. to show a part
        of a page that an API endpoint guards with that requirement)."""
        decision = decide(
            self.principal.credential, policy_of(self.organization), self.role, requirement
        )
        return decision.allowed

    def require(self, requirement: Requirement) -> None:
        """Ask the rule again with a stricter requirement known only after loading an object."""
        decision = decide(
            self.principal.credential, policy_of(self.organization), self.role, requirement
        )
        raise_for(decision)


@dataclass(frozen=True, slots=True)
class ProjectContext(OrganizationContext):
    project: Project | None = None

    @property
    def loaded_project(self) -> Project:
        assert self.project is not None
        return self.project


def _mark(kind: Access, dependency: Callable[..., Any]) -> Any:
    setattr(dependency, ACCESS_ATTRIBUTE, kind)
    return Depends(dependency)


def gatekeeper_of(request: Request) -> Gatekeeper:
    gatekeeper: Gatekeeper = request.app.state.gatekeeper
    return gatekeeper


def authentication_of(request: Request) -> Authentication:
    found = request.scope.get("state", {}).get(AUTHENTICATION_KEY)
    return found if isinstance(found, Authentication) else ANONYMOUS


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def require_principal(request: Request) -> Principal:
    authentication = authentication_of(request)
    if authentication.error is not None:
        raise authentication.error
    if authentication.principal is None:
        raise ApiError(
            401,
            "authentication-required",
            "Sign in, or send 'Authorization: Bearer <token>'.",
        )
    return authentication.principal


async def database(request: Request) -> AsyncIterator[AsyncSession]:
    store: Store = request.app.state.store
    session = store.session()
    # Released before the response is sent, so a slow reader holds no store connection.
    before_response(request.scope, functools.partial(close_quietly, session))
    try:
        yield session
    finally:
        # A connection that died during the request must not turn the 503 already being sent
        # into a dropped connection: closing is quiet.
        await close_quietly(session)


def policy_of(
    organization: Organization, revoked_personal_tokens: frozenset[str] = frozenset()
) -> OrganizationPolicy:
    """The organization's rules as the pure ``decide`` takes them."""
    return OrganizationPolicy(
        organization_id=str(organization.id),
        slug=organization.slug,
        allow_personal_tokens=organization.allow_personal_tokens,
        personal_token_enforcement=Enforcement(organization.personal_token_enforcement),
        personal_token_max_lifetime_days=organization.personal_token_max_lifetime_days,
        require_2fa=organization.require_2fa,
        revoked_personal_tokens=revoked_personal_tokens,
        require_sso=bool(organization.require_sso),
    )


def raise_for(decision: Decision) -> None:
    if not decision.allowed:
        assert decision.code is not None
        headers = None
        authorize_url = decision.extra.get("authorizeUrl")
        if authorize_url is not None:
            # Clients that drop bodies still learn where to authorize the token.
            headers = {SSO_HEADER: f"required; url={authorize_url}"}
        raise ApiError(
            decision.status, decision.code, decision.message, decision.extra, headers=headers
        )


def _role(stored: str | None) -> Role | None:
    return Role(stored) if stored is not None else None


async def _json_or_none(request: Request) -> Any:
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return None if too_deep(data) else data  # the handler refuses it with a clear 400


def public() -> Any:
    """A route anyone may call; it reads no organization data."""

    async def public_access() -> None:
        return None

    return _mark("public", public_access)


def user_level(*, session_only: bool = False, allow_organization_token: bool = False) -> Any:
    """A route about the caller, not an organization. Returns the ``Principal``."""

    async def user_access(request: Request) -> Principal:
        principal = require_principal(request)
        if principal.user is None and not allow_organization_token:
            raise ApiError(
                403,
                "user-required",
                "This endpoint is about a user; organization tokens have none.",
            )
        if session_only and not principal.is_session:
            raise ApiError(
                403,
                "session-required",
                "This action needs a signed-in browser session; API tokens cannot perform it.",
            )
        return principal

    setattr(user_access, REQUIREMENT_ATTRIBUTE, Requirement(None, session_only))
    user_access.allows_organization_token = allow_organization_token  # type: ignore[attr-defined]
    return _mark("user", user_access)


async def _admit(
    request: Request,
    db: AsyncSession,
    requirement: Requirement,
    refine: Refinement | None,
    principal: Principal,
    organization: Organization | None,
    stored_role: str | None,
) -> tuple[Organization, AdmittedOrganization, Role | None, frozenset[str]]:
    role = _role(stored_role) if principal.user is not None else None
    policy = None
    if organization is not None:
        revoked: frozenset[str] = frozenset()
        token_id = principal.token_id
        # Only a member's personal token can be cut off here; outsiders stop at 404 anyway.
        is_member_token = principal.kind is CredentialKind.PERSONAL_TOKEN and role is not None
        if (
            is_member_token
            and token_id is not None
            and await gatekeeper_of(request).revoked_here(db, organization.id, token_id)
        ):
            revoked = frozenset({str(token_id)})
        policy = policy_of(organization, revoked)
    if refine is not None and policy is not None:
        requirement = refine(requirement, await _json_or_none(request))
    decision = decide(principal.credential, policy, role, requirement)
    gatekeeper_of(request).record(
        principal, organization.id if organization is not None else None, decision
    )
    raise_for(decision)
    if decision.break_glass and organization is not None:
        await _audit_break_glass(request, db, principal, organization.id)
    if decision.report_only is not None:
        request.scope.setdefault("state", {})[REPORT_ONLY_KEY] = decision.report_only
    assert organization is not None
    admitted = _admit_organization(organization.id, organization.slug)
    return organization, admitted, role, decision.scopes


async def _audit_break_glass(
    request: Request, db: AsyncSession, principal: Principal, organization_id: int
) -> None:
    """An owner reached SSO or security settings without SSO: each such request is audited."""
    assert principal.user is not None
    record_event(
        db,
        organization_id=organization_id,
        event="sso.break-glass",
        actor_type="user",
        actor_id=str(principal.user.id),
        actor_name=principal.user.display_name,
        ip_address=client_ip(request),
        data={"method": request.method, "path": request.url.path},
    )
    await db.commit()
    request.scope.setdefault("state", {})[BREAK_GLASS_KEY] = True


def organization_access(
    scope: str | None,
    *,
    session_only: bool = False,
    minimum_role: Role | None = None,
    refine: Refinement | None = None,
    organization_token_only: bool = False,
    sso_break_glass: bool = False,
) -> Any:
    """A route under ``/organizations/{org}/``. Returns an ``OrganizationContext``."""
    requirement = Requirement(
        scope,
        session_only,
        minimum_role,
        organization_token_only=organization_token_only,
        sso_break_glass=sso_break_glass,
    )

    async def organization_gate(
        request: Request, org: str, db: AsyncSession = Depends(database)
    ) -> OrganizationContext:
        principal = require_principal(request)
        user_id = principal.user.id if principal.user is not None else None
        organization, stored_role = await gatekeeper_of(request).organization_with_role(
            db, org, user_id, fresh=request.method in _CHANGING_METHODS
        )
        found, admitted, role, scopes = await _admit(
            request, db, requirement, refine, principal, organization, stored_role
        )
        ip = client_ip(request)
        return OrganizationContext(db, principal, found, role, scopes, ip, admitted)

    setattr(organization_gate, REQUIREMENT_ATTRIBUTE, requirement)
    return _mark("organization", organization_gate)


def project_access(scope: str) -> Any:
    """A route under ``/projects/{project_id}/``: its organization passes the same gate."""
    requirement = Requirement(scope)

    async def project_gate(
        request: Request, project_id: str, db: AsyncSession = Depends(database)
    ) -> ProjectContext:
        principal = require_principal(request)
        user_id = principal.user.id if principal.user is not None else None
        project = None
        wanted = parse_id(project_id)
        if wanted is not None:
            project = await find_project(db, wanted)
        organization, stored_role = None, None
        if project is not None:
            organization, stored_role = await gatekeeper_of(request).organization_by_id_with_role(
                db, project.organization_id, user_id, fresh=request.method in _CHANGING_METHODS
            )
        found, admitted, role, scopes = await _admit(
            request, db, requirement, None, principal, organization, stored_role
        )
        ip = client_ip(request)
        return ProjectContext(db, principal, found, role, scopes, ip, admitted, project=project)

    setattr(project_gate, REQUIREMENT_ATTRIBUTE, requirement)
    return _mark("organization", project_gate)


async def admit_named(
    request: Request, db: AsyncSession, principal: Principal, slug: str, requirement: Requirement
) -> OrganizationContext:
    """The same gate for an organization named outside the route's own path (gateway mode:
    the proxy's original request names it). Served from the caches, as the API's reads are."""
    user_id = principal.user.id if principal.user is not None else None
    organization, stored_role = await gatekeeper_of(request).organization_with_role(
        db, slug, user_id
    )
    found, admitted, role, scopes = await _admit(
        request, db, requirement, None, principal, organization, stored_role
    )
    return OrganizationContext(db, principal, found, role, scopes, client_ip(request), admitted)
