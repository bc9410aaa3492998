"""OpenAPI descriptions of the coded errors each kind of route can answer."""

from __future__ import annotations

from typing import Any

from tokenward.api.schemas import ErrorOut

__all__ = ["AUTHENTICATED", "GATED", "document_common_answers", "errors"]

_DESCRIPTIONS = {
    400: "invalid-request: the body or query failed validation (`extra.errors`).",
    401: "authentication-required, invalid-token, token-expired or invalid-credentials.",
    403: "csrf-failed, insufficient-scope, session-required, user-required, forbidden or "
    "personal-token-denied.",
    404: "not-found: no such object, or the caller is not a member of its organization.",
    409: "conflict: e.g. the slug or email is taken, or the last owner would go.",
    408: "request-timeout: the body did not arrive within the time limit.",
    413: "payload-too-large: the body is over the size limit.",
    429: "rate-limited: too many failed attempts; see the Retry-After header.",
    503: "unavailable: the store cannot be reached.",
}


_HEADERS = {
    429: {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
_LINK = {
    "description": 'The next page, as `<URL>; rel="next"` (RFC 8288); absent on the last page.',
    "schema": {"type": "string"},
}


def _error(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"model": ErrorOut, "description": _DESCRIPTIONS[status]}
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the given statuses plus 503, all in the coded error shape."""
    return {status: _error(status) for status in sorted({*statuses, 503})}


def document_common_answers(schema: dict[str, Any]) -> None:
    """Add to a generated schema what the layers around the routes answer for every operation:
    408 for a body too slow to arrive, 413 for a body over the size limit, and the ``Link``
    header of paginated lists."""
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                for status in ("408", "413"):
                    responses.setdefault(
                        status, {"description": _DESCRIPTIONS[int(status)], "content": error_body}
                    )
            parameters = operation.get("parameters", [])
            if "200" in responses and any(p.get("name") == "cursor" for p in parameters):
                responses["200"].setdefault("headers", {})["Link"] = _LINK
            operation["responses"] = dict(sorted(responses.items()))


AUTHENTICATED = (401, 403)
GATED = (401, 403, 404)
