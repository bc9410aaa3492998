"""Reading request bodies after the gate has spoken, so a refused caller never learns about
validation; and describing them in the OpenAPI schema."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from tokenward.http.json_depth import MAX_JSON_DEPTH, too_deep
from tokenward.request_bodies import invalid_request, validation_errors

__all__ = [
    "body_schema",
    "parse_body",
    "require_json_content_type",
]

Model = TypeVar("Model", bound=BaseModel)


def _has_nul(value: Any) -> bool:
    """NUL never belongs in text, and PostgreSQL refuses it outright."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def require_json_content_type(request: Request) -> None:
    """Refuse bodies a cross-site HTML form could send (``text/plain``, form encodings).

    A browser sends those without asking the server first, so an endpoint that needs no CSRF
    token (signing in) must insist on JSON, which a page on another site cannot send.
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise invalid_request(
            [{"field": "content-type", "message": "Send the body as application/json."}]
        )


async def parse_body(request: Request, model: type[Model]) -> Model:
    raw = await request.body()
    if not raw.strip():
        raise invalid_request([{"field": "body", "message": "A JSON object is required."}])
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise invalid_request(
            [{"field": "body", "message": "The body is not valid JSON."}]
        ) from None
    if too_deep(data):
        raise invalid_request(
            [{"field": "body", "message": f"The body nests deeper than {MAX_JSON_DEPTH} levels."}]
        )
    if not isinstance(data, dict):
        raise invalid_request([{"field": "body", "message": "The body must be a JSON object."}])
    if _has_nul(data):
        raise invalid_request(
            [{"field": "body", "message": "Text may not contain NUL characters."}]
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid_request(validation_errors(error)) from None


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads ``model`` from its JSON body."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    }
