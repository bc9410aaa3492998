"""The application's routes in one flat list, found by an index instead of a walk.

FastAPI keeps an included router as a nested object and, per request, walks every router and
every route in order, twice per level (once to match, once to handle), with bookkeeping on the
request scope at each step: about 60 regular-expression matches before the project list is
found. ``include_flat`` adds a router's routes to the application itself, as plain routes (the
path already carries the router's prefix, the route its dependencies and tags); ``RouteIndex``
then narrows the candidates for a path to the one or two routes whose literal segments agree,
and asks each candidate, in the original order, whether it matches. A path no candidate
matches in full (404, 405, a trailing-slash redirect) goes through the router's own walk, so
every answer is the one the walk would give.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter
from starlette.routing import BaseRoute, Host, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["RouteIndex", "include_flat", "install_route_index"]

# What ``add_api_route`` takes besides the path and the endpoint: each is an attribute of the
# route it built, so a route can be added again with the options it was declared with.
_ROUTE_OPTIONS = tuple(
    name
    for name in inspect.signature(APIRouter.add_api_route).parameters
    if name not in ("self", "path", "endpoint", "route_class_override")
)


def include_flat(app: FastAPI, router: APIRouter) -> None:
    """``app.include_router(router)`` for a router that includes no other router, with its
    routes added to the application's own list, each of its own class (the application answers
    for dependency overrides, as it does for an included router)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            app.router.routes.append(route)
            continue
        options = {name: getattr(route, name) for name in _ROUTE_OPTIONS if hasattr(route, name)}
        app.router.add_api_route(
            route.path, route.endpoint, route_class_override=type(route), **options
        )


# A segment that is a whole parameter matching one non-empty segment (Starlette's str, int,
# float and uuid convertors); ``{name:path}`` spans segments and is not one.
_ONE_SEGMENT_PARAMETER = re.compile(r"^\{[a-zA-Z_][a-zA-Z0-9_]*(:(str|int|float|uuid))?\}$")


@dataclass
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    parameter: _Node | None = None
    # Routes whose whole path ends at this node, and routes only their first segments tell
    # apart (a mount, a ``{path:path}``, a segment mixing text and a parameter): tried whenever a
    # path reaches this node.
    ending: list[tuple[int, BaseRoute]] = field(default_factory=list)
    prefix: list[tuple[int, BaseRoute]] = field(default_factory=list)


def _add(root: _Node, order: int, route: BaseRoute) -> None:
    path = getattr(route, "path", None)
    node = root
    if not isinstance(path, str) or isinstance(route, (Mount, Host)) or not path.startswith("/"):
        segments = path.split("/") if isinstance(path, str) and path.startswith("/") else []
        for segment in segments:  # a mount owns everything under its path
            if "{" in segment:
                break
            node = node.literal.setdefault(segment, _Node())
        node.prefix.append((order, route))
        return
    for segment in path.split("/"):
        if "{" not in segment:
            node = node.literal.setdefault(segment, _Node())
        elif _ONE_SEGMENT_PARAMETER.match(segment):
            node.parameter = node.parameter or _Node()
            node = node.parameter
        else:
            node.prefix.append((order, route))
            return
    node.ending.append((order, route))


def _collect(node: _Node, segments: list[str], at: int, found: list[tuple[int, BaseRoute]]) -> None:
    found.extend(node.prefix)
    if at == len(segments):
        found.extend(node.ending)
        return
    segment = segments[at]
    child = node.literal.get(segment)
    if child is not None:
        _collect(child, segments, at + 1, found)
    if node.parameter is not None and segment:
        _collect(node.parameter, segments, at + 1, found)


class RouteIndex:
    """The router's entry point: the matching route found through an index over path segments,
    the router's own walk for everything else. Rebuilt whenever the route list changes."""

    def __init__(self, router: APIRouter, walk: ASGIApp) -> None:
        self.router = router
        self.walk = walk
        self._built_for: tuple[int, int] | None = None
        self._root = _Node()

    def _index(self) -> _Node:
        routes = self.router.routes
        if self._built_for != (id(routes), len(routes)):
            root = _Node()
            for order, route in enumerate(routes):
                _add(root, order, route)
            self._root, self._built_for = root, (id(routes), len(routes))
        return self._root

    def candidates(self, path: str) -> list[BaseRoute]:
        found: list[tuple[int, BaseRoute]] = []
        _collect(self._index(), path.split("/"), 0, found)
        found.sort(key=lambda entry: entry[0])
        return [route for _, route in found]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Anything the walk does beyond matching (telemetry naming the route, a root path to
        # strip, router-wide form limits) stays with the walk.
        if (
            scope["type"] != "http"
            or scope.get("root_path")
            or scope.get("fastapi.telemetry") is not None
            or self.router.form_limits
        ):
            await self.walk(scope, receive, send)
            return
        for route in self.candidates(scope["path"]):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.setdefault("router", self.router)
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        await self.walk(scope, receive, send)


def install_route_index(app: FastAPI) -> None:
    """Put the index in front of the application's router (call once every route is added)."""
    router = app.router
    router.middleware_stack = RouteIndex(router, router.middleware_stack)
