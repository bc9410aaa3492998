"""Public URLs of this service for SSO: the redirect URI registered at identity providers."""

from __future__ import annotations

from fastapi import Request

from tokenward.config import DEFAULT_BASE_URL, Settings

__all__ = ["ACCEPT_INVITATION_PATH", "CALLBACK_PATH", "public_base_url", "redirect_uri"]

CALLBACK_PATH = "/auth/sso/callback/"
# Where an SSO sign-in started from an invitation comes back to; the invitation itself waits in
# a signed cookie, never in a URL or in the sign-in attempt.
ACCEPT_INVITATION_PATH = "/accept-invite/continue/"


def public_base_url(request: Request) -> str:
    """``TOKENWARD_BASE_URL`` when it is set; otherwise the URL this request came to."""
    settings: Settings = request.app.state.settings
    if settings.base_url != DEFAULT_BASE_URL:
        return settings.base_url
    return str(request.base_url).rstrip("/")


def redirect_uri(request: Request) -> str:
    return public_base_url(request) + CALLBACK_PATH
