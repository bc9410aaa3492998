"""The public address links in emails point to: ``TOKENWARD_BASE_URL``, else the request's own."""

from __future__ import annotations

from starlette.requests import Request

from tokenward.config import DEFAULT_BASE_URL

__all__ = ["link_base"]


def link_base(request: Request) -> str:
    configured: str | None = getattr(request.app.state.settings, "base_url", None)
    if configured and configured != DEFAULT_BASE_URL:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")
