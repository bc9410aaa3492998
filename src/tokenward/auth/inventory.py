"""The route inventory: every route declares public, user-level or organization access.

``create_app`` refuses to start when a route declares none (or several), and the tests walk the
same inventory to exercise the organization policy on every organization route.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount

from tokenward.auth.access import ACCESS_ATTRIBUTE, Access

__all__ = ["inventory", "undeclared_routes"]

# Non-API routes that serve no data of anyone's, by path (static files, the schema).
PUBLIC_PATHS = frozenset({"/openapi.json", "/static"})


@dataclass(frozen=True)
class RouteAccess:
    path: str
    methods: frozenset[str]
    access: tuple[Access, ...]


def _declared(dependant: Dependant) -> Iterator[Access]:
    for dependency in dependant.dependencies:
        kind = getattr(dependency.call, ACCESS_ATTRIBUTE, None)
        if kind is not None:
            yield kind
        yield from _declared(dependency)


def _flat_routes(app: FastAPI) -> Iterator[BaseRoute]:
    """Every route of the app, with included routers expanded (newer FastAPI nests them)."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:
        yield from app.routes
        return
    for context in contexts(app.routes):
        effective = context._effective_route
        yield effective if isinstance(effective, BaseRoute) else context.original_route


def inventory(app: FastAPI) -> list[RouteAccess]:
    routes = []
    for route in _flat_routes(app):
        if isinstance(route, APIRoute):
            access = tuple(_declared(route.dependant))
            routes.append(RouteAccess(route.path, frozenset(route.methods or ()), access))
        elif isinstance(route, Mount):
            routes.append(
                RouteAccess(
                    route.path, frozenset(), ("public",) if route.path in PUBLIC_PATHS else ()
                )
            )
        else:
            path = getattr(route, "path", repr(route))
            methods = frozenset(getattr(route, "methods", None) or set())
            routes.append(RouteAccess(path, methods, ("public",) if path in PUBLIC_PATHS else ()))
    return routes


def undeclared_routes(app: FastAPI) -> list[str]:
    """Routes with no access declaration, or more than one (which would be ambiguous)."""
    return [route.path for route in inventory(app) if len(route.access) != 1]
