"""Reading SCIM requests: JSON bodies validated by scim2-models, the supported filter, paging and
attribute selection; anything else raises the SCIM exception that says what is wrong."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    InvalidFilterException,
    InvalidSyntaxException,
    InvalidValueException,
    ResponseParameters,
    SCIMException,
)

from tokenward.scim.schema import ScimUserModel

__all__ = ["integer_parameter", "json_body", "parsed_filter", "response_parameters", "validated"]


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if b"\\u0000" in raw or b"\x00" in raw:
        raise InvalidValueException(detail="Text may not contain NUL.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidSyntaxException(detail="The body is not valid JSON.") from None


def validated(model: Any, payload: Any, context: Context) -> Any:
    if not isinstance(payload, dict):
        raise InvalidSyntaxException(detail="The body must be a JSON object.")
    try:
        return model.model_validate(payload, scim_ctx=context)
    except ValidationError as error:
        errors = Error.from_validation_errors(error.errors())
        first = errors[0] if errors else Error(status=400, scim_type="invalidValue")
        raise SCIMException.from_error(first) from None


def response_parameters(request: Request) -> ResponseParameters[Any]:
    wanted = {
        key: request.query_params[key]
        for key in ("attributes", "excludedAttributes")
        if key in request.query_params
    }
    try:
        return ResponseParameters[ScimUserModel].model_validate(wanted)
    except ValidationError:
        raise InvalidValueException(
            detail="attributes or excludedAttributes is not valid."
        ) from None


# The filters an identity provider sends to find a person before creating them.
_FILTER = re.compile(
    r"^\s*(?:urn:ietf:params:scim:schemas:core:2\.0:User:)?(userName|externalId)\s+eq\s+"
    r'"((?:[^"\\]|\\.)*)"\s*$',
    re.IGNORECASE,
)


def parsed_filter(raw: str | None) -> tuple[str | None, str | None]:
    """(userName, externalId) wanted, from the one filter shape supported."""
    if raw is None:
        return None, None
    found = _FILTER.match(raw)
    if found is None:
        raise InvalidFilterException(
            detail='Only filter=userName eq "…" and filter=externalId eq "…" are supported.'
        )
    value = json.loads(f'"{found.group(2)}"') if "\\" in found.group(2) else found.group(2)
    if found.group(1).lower() == "username":
        return value, None
    return None, value


def integer_parameter(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidValueException(detail=f"{name} must be an integer.") from None
