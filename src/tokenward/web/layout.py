"""What organization pages share: the tabs a caller may open, and the scope checkboxes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from tokenward.auth.organization_context import OrganizationContext
from tokenward.policy import ALL_SCOPES
from tokenward.refusals import STANDINGS
from tokenward.web.templating import render

__all__ = ["STANDING_WORDS", "organization_page", "organization_url"]

_RESOURCES = ("org", "member", "project")
_LEVELS = ("read", "write", "admin")


def scope_sort_key(scope: str) -> tuple[int, int]:
    resource, _, level = scope.partition(":")
    return (
        _RESOURCES.index(resource) if resource in _RESOURCES else len(_RESOURCES),
        _LEVELS.index(level) if level in _LEVELS else len(_LEVELS),
    )


SCOPES: tuple[str, ...] = tuple(sorted(ALL_SCOPES, key=scope_sort_key))

# A personal token's standing in an organization (see actions.personal_token_access), in words.
STANDING_WORDS = {
    "allowed": "allowed",
    **{standing: refusal.words for refusal, standing in STANDINGS.items()},
    "not-a-member": "no longer a member",
}


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    path: str
    scope: str  # the tab is shown when the gate granted this scope; the page checks it again


_TABS = (
    Tab("general", "General", "", "org:read"),
    Tab("security", "Security", "security/", "org:read"),
    Tab("members", "Members", "members/", "member:read"),
    Tab("tokens", "Organization tokens", "tokens/", "org:read"),
    Tab("personal-tokens", "Personal tokens", "personal-tokens/", "member:admin"),
    Tab("projects", "Projects", "projects/", "project:read"),
    Tab("audit-log", "Audit log", "audit-log/", "org:write"),
)


def organization_url(context: OrganizationContext, path: str = "") -> str:
    return f"/settings/{context.organization.slug}/{path}"


def organization_page(
    request: Request,
    context: OrganizationContext,
    template: str,
    active: str,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    tabs = [
        (tab, organization_url(context, tab.path)) for tab in _TABS if tab.scope in context.scopes
    ]
    return render(
        request,
        template,
        {
            "organization": context.organization,
            "role": context.role.value if context.role is not None else None,
            "scopes": context.scopes,
            "tabs": tabs,
            "active": active,
            "base_url": organization_url(context),
            **values,
        },
        status_code=status_code,
    )
