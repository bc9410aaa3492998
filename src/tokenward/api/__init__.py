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

__all__ = ["api_router"]

api_router = APIRouter()
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
):
    api_router.include_router(module.router)
