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

__all__ = ["PAGE_ROUTERS"]

PAGE_ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
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
    )
)
