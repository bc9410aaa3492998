"""``/forward-auth``: a reverse proxy asks whether to let a request through.

Allow is exactly 200 with an empty body and the identity headers. A refusal is the API's status
and coded body, plus ``Tokenward-Error: <code>`` (nginx drops a sub-request's body) and
whatever headers the refusal itself carries (``WWW-Authenticate``, ``Tokenward-SSO``).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tokenward.auth.access import public
from tokenward.errors import ApiError
from tokenward.gateway.check import Gateway
from tokenward.gateway.original import FORWARD_AUTH_PREFIX, original_request
from tokenward.gateway.route_file import load_routes
from tokenward.http.route_table import include_flat
from tokenward.store.engine import Store

__all__ = ["install_gateway", "refusal"]

GATEWAY_KEY = "gateway"
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter(include_in_schema=False)


def refusal(error: ApiError) -> JSONResponse:
    headers = {**error.headers, **_NO_STORE, "Tokenward-Error": error.code}
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


# The gate runs inside (``admit_named``): this route is public in the inventory's sense, since
# any caller may ask, and it serves no organization's data, only the caller's own identity.
@router.api_route(FORWARD_AUTH_PREFIX, methods=_METHODS, dependencies=[public()])
@router.api_route(FORWARD_AUTH_PREFIX + "/{path:path}", methods=_METHODS, dependencies=[public()])
async def forward_auth(request: Request) -> Response:
    gateway: Gateway | None = getattr(request.app.state, GATEWAY_KEY, None)
    try:
        if gateway is None:
            raise ApiError(
                404,
                "not-found",
                "Gateway mode is off: set TOKENWARD_GATEWAY_ROUTES to a route file.",
            )
        scope = request.scope
        original = original_request(
            request.headers,
            request.method,
            scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
            scope.get("query_string", b"").decode("latin-1"),
        )
        headers = await gateway.check(request, original)
    except ApiError as error:
        return refusal(error)
    return Response(status_code=200, headers={**headers, **_NO_STORE})


def install_gateway(app: FastAPI, routes_file: str | None, store: Store) -> Gateway | None:
    """Adds ``/forward-auth`` (always, so the route inventory sees it); loads the route file when
    one is configured, raising ``RouteFileError`` with every mistake and its line."""
    include_flat(app, router)
    gateway = Gateway(load_routes(routes_file), store) if routes_file else None
    setattr(app.state, GATEWAY_KEY, gateway)
    return gateway
