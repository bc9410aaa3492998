"""Public URLs of this service for SSO: the redirect URI registered at identity providers."""

from __future__ import annotations

from fastapi import Request

from tokenward.config import DEFAULT_BASE_URL, Settings

__all__ = ["CALLBACK_PATH", "public_base_url", "redirect_uri"]

CALLBACK_PATH = "/auth/sso/callback/"


def public_base_url(request: Request) -> str:
    """``TOKENWARD_BASE_URL`` when it is set; otherwise the URL this request came to."""
    settings: Settings = request.app.state.settings
    if settings.base_url != DEFAULT_BASE_URL:
        return settings.base_url
    return str(request.base_url).rstrip("/")


def redirect_uri(request: Request) -> str:
    return public_base_url(request) + CALLBACK_PATH
