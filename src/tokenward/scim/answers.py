"""How SCIM routes answer: ``application/scim+json``, and every refusal as a SCIM Error message
(``status`` as a string, ``scimType`` where one applies), the gate's included."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from scim2_models import Context, Error, SCIMException
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from tokenward.errors import ApiError

__all__ = ["ScimRoute", "scim_error", "scim_response"]

log = logging.getLogger("tokenward.scim")

MEDIA_TYPE = "application/scim+json"


def scim_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers or None
    )


def scim_error(status: int, detail: str, scim_type: str | None = None) -> Response:
    error = Error(status=status, scim_type=scim_type, detail=detail)
    return scim_response(error.model_dump(scim_ctx=Context.DEFAULT), status)


def _from_exception(error: Exception) -> Response | None:
    if isinstance(error, SCIMException):
        scim = error.to_error()
        return scim_error(scim.status or 400, scim.detail or str(error), scim.scim_type)
    if isinstance(error, ApiError):  # the gate's refusals, told the SCIM way
        headers = error.headers or None
        response = scim_error(error.status, f"{error.code}: {error.message}")
        if headers:
            response.headers.update(headers)
        return response
    if isinstance(error, RequestValidationError):
        return scim_error(400, "The request is not valid.", "invalidValue")
    if isinstance(error, IntegrityError):  # a concurrent request took the same userName
        return scim_error(409, "The change conflicts with existing data.", "uniqueness")
    if isinstance(error, DataError):
        return scim_error(400, "A value is not one the store accepts.", "invalidValue")
    if isinstance(error, SQLAlchemyError | OSError | TimeoutError):
        log.warning("store error on a SCIM request: %s", type(error).__name__)
        return scim_error(503, "The data store cannot be reached; try again shortly.")
    return None


class ScimRoute(APIRoute):
    """Turns every refusal raised on a SCIM route, the gate's included, into a SCIM Error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def scim_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:
                response = _from_exception(error)
                if response is None:
                    raise
                return response

        return scim_handler
