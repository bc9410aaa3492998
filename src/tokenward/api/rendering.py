"""JSON bodies serialized once, by pydantic, from models already built by the presenters.

A route that returns a model and also declares ``response_model`` makes FastAPI dump the model,
validate the dump against the same model and then serialize it: every field checked twice. The
routes on the hot path return a ``Response`` made here instead; ``response_model`` stays on the
route for the OpenAPI schema only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from fastapi import Response
from pydantic import BaseModel, TypeAdapter

__all__ = ["json_list"]

JSON = "application/json"


@cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def json_model(
    body: BaseModel, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(body.model_dump_json(), status_code, headers, JSON)


def json_list(
    model: type[BaseModel], items: Sequence[BaseModel], *, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(_list_adapter(model).dump_json(list(items)), 200, headers, JSON)
