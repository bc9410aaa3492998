"""Every failure answers in the coded shape; nothing a client sends produces a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from tokenward.auth.inventory import inventory
from tokenward.errors import ApiError, error_body
from tokenward.request_bodies import validation_errors

__all__ = ["install_error_handlers"]

log = logging.getLogger("tokenward.errors")

_HTTP_CODES = {
    404: ("not-found", "The requested resource does not exist."),
    405: ("method-not-allowed", "This method is not allowed here."),
    413: ("payload-too-large", "The request body is too large."),
}


def _json(
    status: int,
    code: str,
    message: str,
    extra: dict | None = None,  # type: ignore[type-arg]
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, extra), status_code=status, headers=headers)


async def _api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers or None)


async def _validation(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = validation_errors(list(error.errors()))
    return _json(400, "invalid-request", "The request is not valid.", {"errors": errors})


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path; Starlette names only the first route's."""
    state = request.app.state
    if getattr(state, "route_methods", None) is None:
        state.route_methods = [
            (compile_path(route.path)[0], route.methods)
            for route in inventory(request.app)
            if route.methods
        ]
    root, path = request.scope.get("root_path", ""), request.scope["path"]
    path = path[len(root) :] if root and path.startswith(root) else path
    methods: set[str] = set()
    for pattern, served in state.route_methods:
        if pattern.match(path):
            methods |= served
    return ", ".join(sorted(methods))


async def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code, message = _HTTP_CODES.get(error.status_code, ("http-error", "The request failed."))
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return _json(error.status_code, code, message, headers=headers)


async def _store(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, IntegrityError):
        return _json(409, "conflict", "The change conflicts with existing data.")
    if isinstance(error, DataError):  # a value the database refuses: the client's doing
        return _json(400, "invalid-request", "The request is not valid.", {"errors": []})
    log.warning("store error on %s %s: %s", request.method, request.url.path, type(error).__name__)
    return _json(503, "unavailable", "The data store cannot be reached; try again shortly.")


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.url.path)
    return _json(500, "internal-error", "Something went wrong on our side; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(SQLAlchemyError, _store)
    app.add_exception_handler(OSError, _store)
    app.add_exception_handler(TimeoutError, _store)
    app.add_exception_handler(Exception, _unexpected)
