"""Responses that carry a secret (a new token, a TOTP secret, a CSRF token) are never stored by
a browser or a proxy. Other authenticated API answers are ``private`` (security headers)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Response

__all__ = ["NO_STORE"]


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


NO_STORE: Any = Depends(_no_store)
