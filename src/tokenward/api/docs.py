"""OpenAPI descriptions of the coded errors each kind of route can answer."""

from __future__ import annotations

from typing import Any

from tokenward.api.schemas import ErrorOut
from tokenward.refusals import Refusal

__all__ = ["AUTHENTICATED", "GATED", "document_common_answers", "errors"]


def _described(status: int) -> str:
    return " ".join(
        f"`{refusal}`: {refusal.description}." for refusal in Refusal if refusal.status == status
    )


# Every status a refusal answers with, described by the refusals that answer it.
_DESCRIPTIONS = {status: _described(status) for status in sorted({r.status for r in Refusal})}

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
