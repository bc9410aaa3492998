"""Rendering pages: one Jinja2 environment, and the context every page shares."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tokenward.auth.caller import authentication_of
from tokenward.auth.principal import Principal
from tokenward.web.flash import FLASH_COOKIE, take_flash
from tokenward.web.forms import suggested_slug
from tokenward.web.page_links import linked

__all__ = ["render", "session_principal"]

TEMPLATES_DIRECTORY = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIRECTORY)


def _when(value: dt.datetime | None) -> str:
    """Times are stored in UTC and shown in UTC, to the minute."""
    if value is None:
        return "—"
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _iso(value: dt.datetime | None) -> str:
    return value.isoformat() if value is not None else ""


templates.env.filters["when"] = _when
templates.env.filters["iso"] = _iso
templates.env.filters["suggested_slug"] = suggested_slug
templates.env.filters["linked"] = linked


def session_principal(request: Request) -> Principal | None:
    """The signed-in browser user, if any (pages never act for API tokens)."""
    principal = authentication_of(request).principal
    return principal if principal is not None and principal.is_session else None


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    principal = session_principal(request)
    flash = take_flash(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "principal": principal,
            "csrf_token": principal.csrf_token if principal is not None else "",
            "flash": flash,
            **(context or {}),
        },
        status_code=status_code,
        headers=headers,
    )
    # Pages carry personal data and, once, token secrets: never keep them in a cache.
    response.headers["Cache-Control"] = "no-store"
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response
