"""OpenAPI descriptions of the coded errors each kind of route can answer."""

from __future__ import annotations

from typing import Any

from tokenward.api.schemas import ErrorOut

__all__ = ["errors"]

_DESCRIPTIONS = {
    400: "invalid-request: the body or query failed validation (`extra.errors`).",
    401: "authentication-required, invalid-token, token-expired or invalid-credentials.",
    403: "csrf-failed, insufficient-scope, session-required, user-required, forbidden or "
    "personal-token-denied.",
    404: "not-found: no such object, or the caller is not a member of its organization.",
    409: "conflict: e.g. the slug or email is taken, or the last owner would go.",
    413: "payload-too-large: the body is over the size limit.",
    429: "rate-limited: too many failed attempts; see the Retry-After header.",
    503: "unavailable: the store cannot be reached.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the given statuses plus 503, all in the coded error shape."""
    return {
        status: {"model": ErrorOut, "description": _DESCRIPTIONS[status]}
        for status in sorted({*statuses, 503})
    }


AUTHENTICATED = (401, 403)
GATED = (401, 403, 404)
