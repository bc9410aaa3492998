"""How a route declares its access: every route declares exactly one kind, and mypy checks it.

A route takes one of the typed aliases below as a parameter (``context: MemberWrite``,
``principal: BrowserUser``), or lists ``public()`` in its ``dependencies``. An alias pairs the
type the route receives with the dependency that produces it, in one declaration, so mypy
checks the route's use of what it was given (``Depends`` is typed ``Any``: the old
``context: OrganizationContext = organization_access(...)`` told mypy nothing). A test checks
that each alias names the type its dependency returns. Each dependency is marked with its kind,
so the route inventory (``auth.inventory``) proves that no route forgot the check, and the
application refuses to start if one did.

Admission (``auth.admit``) is the only way to organization-owned data: it alone makes an
``AdmittedOrganization`` (``tokenward.store.admission``), carried by the ``OrganizationContext``
it returns, and every reader of an organization's data takes one: a route that names an
organization any other way (a ``user_level`` route reading ``{slug}``, say) cannot call them.

How to add an organization route:

1. Put it under ``/organizations/{org}/`` and take one of the organization aliases below (or
   declare a new one with ``organization_access(scope, ...)``), or, when the organization is
   known only from an object, one like ``ProjectWrite`` that loads the object and admits its
   organization. Never load an organization yourself.
2. Read and write the organization's data only through ``context`` (``context.db``,
   ``context.admitted``), passing ``context.admitted`` to readers such as ``members_of``.
3. A new reader of organization-owned data takes ``organization: AdmittedOrganization`` and
   queries by ``admitted_id(organization)``, never by an ``int`` id or an ``Organization`` row.
4. A stricter need known only from the body or an object: ``refine=`` or ``context.require``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, Request

from tokenward.auth.admit import Refinement, admit_to_organization, admit_to_project
from tokenward.auth.caller import require_principal
from tokenward.auth.database import RequestDatabase
from tokenward.auth.form_csrf import accept_form_csrf
from tokenward.auth.organization_context import OrganizationContext, ProjectContext
from tokenward.auth.principal import Principal
from tokenward.errors import ApiError
from tokenward.policy import Requirement, Role

__all__ = [
    "ACCESS_ATTRIBUTE",
    "CHANGE_SECURITY_SETTINGS",
    "MANAGE_MEMBER_CREDENTIALS",
    "REQUIREMENT_ATTRIBUTE",
    "SEE_MEMBER_CREDENTIALS",
    "Access",
    "BrowserMemberAdminAsManager",
    "BrowserMemberRead",
    "BrowserMemberWrite",
    "BrowserOrgRead",
    "BrowserOrgWrite",
    "BrowserProjectsRead",
    "BrowserProjectsWrite",
    "BrowserUser",
    "MemberAdminAsManager",
    "MemberRead",
    "MemberWrite",
    "OrgRead",
    "OrgWrite",
    "ProjectAdmin",
    "ProjectRead",
    "ProjectWrite",
    "ProjectsRead",
    "ProjectsWrite",
    "SecuritySettingsRead",
    "SecuritySettingsWrite",
    "SignedIn",
    "UserOrOrganizationToken",
    "organization_access",
    "project_access",
    "public",
    "user_level",
]

Access = Literal["public", "user", "organization"]
ACCESS_ATTRIBUTE = "__tokenward_access__"
# What a gated route asks of the rule before any refinement (read by the fuzz tests' oracle).
REQUIREMENT_ATTRIBUTE = "__tokenward_requirement__"


def _mark(kind: Access, dependency: Callable[..., Any]) -> Any:
    setattr(dependency, ACCESS_ATTRIBUTE, kind)
    return Depends(dependency)


def public() -> Any:
    """A route anyone may call; it reads no organization data (``dependencies=[public()]``)."""

    async def public_access() -> None:
        return None

    return _mark("public", public_access)


def user_level(*, session_only: bool = False, allow_organization_token: bool = False) -> Any:
    """A route about the caller, not an organization. Gives the ``Principal``."""

    async def user_access(request: Request) -> Principal:
        await accept_form_csrf(request)
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


def organization_access(
    scope: str | None,
    *,
    session_only: bool = False,
    minimum_role: Role | None = None,
    refine: Refinement | None = None,
    organization_token_only: bool = False,
    sso_break_glass: bool = False,
) -> Any:
    """A route under ``/organizations/{org}/``. Gives an ``OrganizationContext``."""
    requirement = Requirement(
        scope,
        session_only,
        minimum_role,
        organization_token_only=organization_token_only,
        sso_break_glass=sso_break_glass,
    )

    return _organization_gate(requirement, refine)


def _organization_gate(requirement: Requirement, refine: Refinement | None = None) -> Any:
    # The request's store comes with the gate, not as a dependency of its own: one dependency
    # less per request, and no session, nor anything to close, unless something reads.
    async def organization_gate(request: Request, org: str) -> OrganizationContext:
        await accept_form_csrf(request)
        database = RequestDatabase(request.app.state.store, request.scope)
        return await admit_to_organization(request, database, org, requirement, refine)

    setattr(organization_gate, REQUIREMENT_ATTRIBUTE, requirement)
    return _mark("organization", organization_gate)


def project_access(scope: str) -> Any:
    """A route under ``/projects/{project_id}/``: its organization passes the same check.
    Gives a ``ProjectContext``."""
    requirement = Requirement(scope)

    async def project_gate(request: Request, project_id: str) -> ProjectContext:
        await accept_form_csrf(request)
        database = RequestDatabase(request.app.state.store, request.scope)
        return await admit_to_project(request, database, project_id, requirement)

    setattr(project_gate, REQUIREMENT_ATTRIBUTE, requirement)
    return _mark("organization", project_gate)


# About the caller.
SignedIn = Annotated[Principal, user_level()]
BrowserUser = Annotated[Principal, user_level(session_only=True)]
UserOrOrganizationToken = Annotated[Principal, user_level(allow_organization_token=True)]

# An organization, by its scopes; "Browser" ones need a signed-in browser session.
OrgRead = Annotated[OrganizationContext, organization_access("org:read")]
OrgWrite = Annotated[OrganizationContext, organization_access("org:write")]
MemberRead = Annotated[OrganizationContext, organization_access("member:read")]
MemberWrite = Annotated[OrganizationContext, organization_access("member:write")]
ProjectsRead = Annotated[OrganizationContext, organization_access("project:read")]
ProjectsWrite = Annotated[OrganizationContext, organization_access("project:write")]
BrowserOrgRead = Annotated[OrganizationContext, organization_access("org:read", session_only=True)]
BrowserOrgWrite = Annotated[
    OrganizationContext, organization_access("org:write", session_only=True)
]
BrowserMemberRead = Annotated[
    OrganizationContext, organization_access("member:read", session_only=True)
]
BrowserMemberWrite = Annotated[
    OrganizationContext, organization_access("member:write", session_only=True)
]
BrowserProjectsRead = Annotated[
    OrganizationContext, organization_access("project:read", session_only=True)
]
BrowserProjectsWrite = Annotated[
    OrganizationContext, organization_access("project:write", session_only=True)
]
# Members' credentials in the organization (personal token access and usage, SSO
# authorizations); pages ask ``context.allows`` of these to show them.
SEE_MEMBER_CREDENTIALS = Requirement("member:admin", minimum_role=Role.MANAGER)
MANAGE_MEMBER_CREDENTIALS = SEE_MEMBER_CREDENTIALS.tightened(session_only=True)
MemberAdminAsManager = Annotated[OrganizationContext, _organization_gate(SEE_MEMBER_CREDENTIALS)]
BrowserMemberAdminAsManager = Annotated[
    OrganizationContext, _organization_gate(MANAGE_MEMBER_CREDENTIALS)
]
# The organization's SSO and security settings, reachable as break-glass without SSO.
SecuritySettingsRead = Annotated[
    OrganizationContext, organization_access("org:read", session_only=True, sso_break_glass=True)
]
# Pages ask ``context.allows(CHANGE_SECURITY_SETTINGS)`` to offer the change.
CHANGE_SECURITY_SETTINGS = Requirement(
    "org:write", session_only=True, minimum_role=Role.OWNER, sso_break_glass=True
)
SecuritySettingsWrite = Annotated[OrganizationContext, _organization_gate(CHANGE_SECURITY_SETTINGS)]

# One project, by ``{project_id}``.
ProjectRead = Annotated[ProjectContext, project_access("project:read")]
ProjectWrite = Annotated[ProjectContext, project_access("project:write")]
ProjectAdmin = Annotated[ProjectContext, project_access("project:admin")]
