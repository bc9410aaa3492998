"""All pages, in matching order: ``/settings/account/`` before ``/settings/{org}/``."""

from __future__ import annotations

from fastapi import APIRouter

from tokenward.web import (
    account_security,
    account_tokens,
    audit_log,
    invitation_sso,
    invitations,
    members,
    organization_sso,
    organization_tokens,
    organizations,
    personal_token_inventory,
    projects,
    security,
    sign_in,
    sso,
)

__all__ = ["page_router"]

page_router = APIRouter(include_in_schema=False)
for module in (
    sign_in,
    account_tokens,
    account_security,
    organizations,
    security,
    organization_sso,
    personal_token_inventory,
    members,
    organization_tokens,
    projects,
    audit_log,
    invitation_sso,
    invitations,
    sso,
):
    page_router.include_router(module.router)
