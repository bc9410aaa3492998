"""The gateway's route rules: what a request needs, and which organization it is about.

A rule says nothing about whether a credential may act; it only names the organization (from a
path placeholder, or through a resolver the upstream answers) and what the request needs there.
The answer itself is ``policy.decide``'s, through the same gate as the API's own routes.
``route_file`` reads these rules from TOML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["Access", "Resolver", "Route", "RouteMatch", "RouteTable", "Segment"]

Access = Literal["public", "user", "organization"]
Default = Literal["deny", "public"]


@dataclass(frozen=True, slots=True)
class Resolver:
    """Asks the upstream which organization owns an object: ``url`` answers
    ``{"organization": "<slug>"}``, or 404 when there is no such object."""

    name: str
    url: str
    ttl_seconds: float
    timeout_seconds: float
    placeholders: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    placeholder: str | None = None  # the name when the whole segment is ``{name}``
    rest: bool = False  # ``{name:path}``: this and every following segment


@dataclass(frozen=True, slots=True)
class Route:
    line: int
    path: str
    segments: tuple[Segment, ...]
    methods: frozenset[str] | None  # None: every method
    access: Access
    organization: str | None = None  # the placeholder holding the organization's slug
    organization_from: str | None = None  # the resolver that names it
    scope: str | None = None

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(s.placeholder for s in self.segments if s.placeholder is not None)

    def allows_method(self, method: str) -> bool:
        if self.methods is None:
            return True
        return method in self.methods or (method == "HEAD" and "GET" in self.methods)

    def match(self, segments: tuple[str, ...]) -> dict[str, str] | None:
        """The placeholders' values when ``segments`` (decoded) fit this path, else None."""
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.rest:
                remaining = segments[index:]
                if not remaining or not remaining[0]:
                    return None
                assert segment.placeholder is not None
                values[segment.placeholder] = "/".join(remaining)
                return values
            if index >= len(segments):
                return None
            given = segments[index]
            if segment.placeholder is not None:
                if not given:
                    return None
                values[segment.placeholder] = given
            elif given != segment.text:
                return None
        return values if len(segments) == len(self.segments) else None


@dataclass(frozen=True, slots=True)
class RouteMatch:
    route: Route
    values: Mapping[str, str]


@dataclass(frozen=True)
class RouteTable:
    routes: tuple[Route, ...]
    resolvers: Mapping[str, Resolver]
    default: Default = "deny"
    source: str = "routes"

    def match(self, method: str, segments: tuple[str, ...]) -> RouteMatch | None:
        """The first rule whose path and method fit; None when none does."""
        for route in self.routes:
            if not route.allows_method(method):
                continue
            values = route.match(segments)
            if values is not None:
                return RouteMatch(route, values)
        return None
