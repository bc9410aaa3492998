"""The JSON API under ``/api/0/``: one module per resource."""

from fastapi import APIRouter

from tokenward.api import (
    audit_logs,
    auth,
    health,
    invitations,
    leaked_tokens,
    members,
    organization_tokens,
    organizations,
    personal_token_access,
    projects,
    scim,
    sso,
    two_factor,
    users,
)

__all__ = ["API_ROUTERS"]

# In matching order; the application adds their routes to its own list (http/route_table).
API_ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        health,
        auth,
        users,
        two_factor,
        organizations,
        members,
        organization_tokens,
        personal_token_access,
        projects,
        audit_logs,
        leaked_tokens,
        invitations,
        scim,
        sso,
    )
)
