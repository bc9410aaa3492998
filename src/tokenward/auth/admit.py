"""Admission: the check every organization route passes, and the only maker of admissions.

It reads the organization and the caller's membership in one query (through the caches), asks
the pure ``policy.decide``, records the decision, and either raises the refusal or returns an
``OrganizationContext`` carrying an ``AdmittedOrganization`` (``tokenward.store.admission``).
Routes reach it through the access declarations of ``tokenward.auth.access``; gateway mode
calls ``admit_named`` for the organization its proxied request names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.auth.cached_organizations import CachedOrganizations
from tokenward.auth.caller import client_ip, require_principal
from tokenward.auth.database import RequestDatabase
from tokenward.auth.decision_error import raise_for
from tokenward.auth.decision_recorder import DecisionRecorder
from tokenward.auth.organization_context import OrganizationContext, ProjectContext
from tokenward.auth.organization_policy import policy_of
from tokenward.auth.principal import Principal
from tokenward.http.json_body import json_or_none
from tokenward.http.report_only import REPORT_ONLY_KEY
from tokenward.policy import CredentialKind, Requirement, Role, decide
from tokenward.store.admission import AdmittedOrganization, claim_issuer
from tokenward.store.admission_queries import find_project
from tokenward.store.audit import record_event
from tokenward.store.ids import parse_id
from tokenward.store.organization_record import OrganizationFields

__all__ = [
    "BREAK_GLASS_KEY",
    "Refinement",
    "admit_named",
    "admit_to_organization",
    "admit_to_project",
]

# Set on a request an owner's password session made as break-glass (pages say so in red).
BREAK_GLASS_KEY = "tokenward.sso_break_glass"

# Given the route's requirement and the request body (parsed JSON, or None), a refinement returns
# a stricter requirement, e.g. owner + session when the body touches security settings.
Refinement = Callable[[Requirement, Any], Requirement]

# The one issuer of admissions: nothing but this module can admit an organization.
_admit_organization = claim_issuer()

# Requests that may change data read the organization fresh from the store (see
# ``CachedOrganizations``).
_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _organizations(request: Request) -> CachedOrganizations:
    organizations: CachedOrganizations = request.app.state.cached_organizations
    return organizations


def _recorder(request: Request) -> DecisionRecorder:
    recorder: DecisionRecorder = request.app.state.decision_recorder
    return recorder


def _role(stored: str | None) -> Role | None:
    return Role(stored) if stored is not None else None


def _personal_token(principal: Principal) -> int | None:
    """The token whose cut-off from the organization is read along with it, on a cache miss."""
    return principal.token_id if principal.kind is CredentialKind.PERSONAL_TOKEN else None


async def _admit(
    request: Request,
    database: RequestDatabase,
    requirement: Requirement,
    refine: Refinement | None,
    principal: Principal,
    organization: OrganizationFields | None,
    stored_role: str | None,
) -> tuple[OrganizationFields, AdmittedOrganization, Role | None, frozenset[str]]:
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
            and await _organizations(request).revoked_here(database, organization.id, token_id)
        ):
            revoked = frozenset({str(token_id)})
        policy = policy_of(organization, revoked)
    if refine is not None and policy is not None:
        requirement = refine(requirement, await json_or_none(request))
    decision = decide(principal.credential, policy, role, requirement)
    _recorder(request).record(
        principal, organization.id if organization is not None else None, decision
    )
    raise_for(decision)
    if decision.break_glass and organization is not None:
        await _audit_break_glass(request, database.session, principal, organization.id)
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


async def admit_to_organization(
    request: Request,
    database: RequestDatabase,
    slug: str,
    requirement: Requirement,
    refine: Refinement | None,
) -> OrganizationContext:
    """The organization a route's ``{org}`` names, if the rule lets the caller in."""
    principal = require_principal(request)
    user_id = principal.user.id if principal.user is not None else None
    organization, stored_role = await _organizations(request).organization_with_role(
        database,
        slug,
        user_id,
        fresh=request.method in _CHANGING_METHODS,
        token_id=_personal_token(principal),
    )
    found, admitted, role, scopes = await _admit(
        request, database, requirement, refine, principal, organization, stored_role
    )
    return OrganizationContext(
        database, principal, found, role, scopes, client_ip(request), admitted
    )


async def admit_to_project(
    request: Request, database: RequestDatabase, project_id: str, requirement: Requirement
) -> ProjectContext:
    """A project and its organization, if the rule lets the caller into that organization."""
    principal = require_principal(request)
    user_id = principal.user.id if principal.user is not None else None
    project = None
    wanted = parse_id(project_id)
    if wanted is not None:
        project = await find_project(database.session, wanted)
    organization, stored_role = None, None
    if project is not None:
        organization, stored_role = await _organizations(request).organization_by_id_with_role(
            database,
            project.organization_id,
            user_id,
            fresh=request.method in _CHANGING_METHODS,
            token_id=_personal_token(principal),
        )
    found, admitted, role, scopes = await _admit(
        request, database, requirement, None, principal, organization, stored_role
    )
    ip = client_ip(request)
    return ProjectContext(database, principal, found, role, scopes, ip, admitted, project=project)


async def admit_named(
    request: Request,
    database: RequestDatabase,
    principal: Principal,
    slug: str,
    requirement: Requirement,
) -> OrganizationContext:
    """The same check for an organization named outside the route's own path (gateway mode:
    the proxy's original request names it). Served from the caches, as the API's reads are."""
    user_id = principal.user.id if principal.user is not None else None
    organization, stored_role = await _organizations(request).organization_with_role(
        database, slug, user_id, token_id=_personal_token(principal)
    )
    found, admitted, role, scopes = await _admit(
        request, database, requirement, None, principal, organization, stored_role
    )
    return OrganizationContext(
        database, principal, found, role, scopes, client_ip(request), admitted
    )
