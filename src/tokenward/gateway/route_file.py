"""The route file: TOML read into a ``RouteTable``, every mistake reported with its line.

All mistakes are reported at once, so that ``tokenward gateway check-routes`` can be run until
it is quiet. ``tomllib`` keeps no positions, so lines are found in the text itself.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenward.gateway.routes import Access, Resolver, Route, RouteTable, Segment
from tokenward.policy import ALL_SCOPES

__all__ = ["RouteFileError", "load_routes", "parse_routes"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_METHOD = re.compile(r"^[A-Z]+$")
_HEADER_LINE = re.compile(r"^\s*\[")
_ROUTE_HEADER = re.compile(r"^\s*\[\[\s*route\s*\]\]")
_RESOLVER_HEADER = re.compile(r"^\s*\[\s*resolver\s*\.\s*\"?([A-Za-z0-9_-]+)\"?\s*\]")
_TOML_LINE = re.compile(r"at line (\d+)")

_ROUTE_KEYS = frozenset({"path", "methods", "access", "organization", "organization_from", "scope"})
_RESOLVER_KEYS = frozenset({"url", "ttl_seconds", "timeout_seconds"})
_TOP_KEYS = frozenset({"default", "route", "resolver"})
DEFAULT_RESOLVER_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class RouteProblem:
    line: int
    message: str


class RouteFileError(ValueError):
    """The route file is not valid; ``problems`` names each mistake and its line."""

    def __init__(self, source: str, problems: list[RouteProblem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda problem: problem.line)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"{self.source}:{problem.line}: {problem.message}" for problem in self.problems]


class _Lines:
    """Where things are in the file's text, since ``tomllib`` keeps no positions."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.route_headers = [
            i + 1 for i, line in enumerate(self.lines) if _ROUTE_HEADER.match(line)
        ]
        self.resolver_headers: dict[str, int] = {}
        for i, line in enumerate(self.lines):
            found = _RESOLVER_HEADER.match(line)
            if found:
                self.resolver_headers.setdefault(found.group(1), i + 1)

    def _block_end(self, start: int) -> int:
        for number in range(start + 1, len(self.lines) + 1):
            if _HEADER_LINE.match(self.lines[number - 1]):
                return number
        return len(self.lines) + 1

    def key(self, block_start: int, key: str) -> int:
        """The line of ``key = ...`` inside the table that starts at ``block_start`` (0: top)."""
        pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
        end = self._block_end(block_start) if block_start else self._first_header()
        for number in range(block_start + 1, end):
            if pattern.match(self.lines[number - 1]):
                return number
        return max(block_start, 1)

    def _first_header(self) -> int:
        for number, line in enumerate(self.lines, start=1):
            if _HEADER_LINE.match(line):
                return number
        return len(self.lines) + 1

    def route(self, index: int) -> int:
        return self.route_headers[index] if index < len(self.route_headers) else 1


def _placeholders_of(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


class _Reader:
    def __init__(self, text: str) -> None:
        self.where = _Lines(text)
        self.problems: list[RouteProblem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(RouteProblem(line, message))

    def resolvers(self, raw: Any) -> dict[str, Resolver]:
        found: dict[str, Resolver] = {}
        if raw is None:
            return found
        if not isinstance(raw, dict):
            self.problem(self.where.key(0, "resolver"), "'resolver' must be a table of resolvers")
            return found
        for name, table in raw.items():
            line = self.where.resolver_headers.get(name, 1)
            if not _NAME.match(name.replace("-", "_")):
                self.problem(line, f"resolver name {name!r} must be letters, digits, - or _")
                continue
            if not isinstance(table, dict):
                self.problem(line, f"[resolver.{name}] must be a table")
                continue
            resolver = self._resolver(name, table, line)
            if resolver is not None:
                found[name] = resolver
        return found

    def _resolver(self, name: str, table: dict[str, Any], line: int) -> Resolver | None:
        ok = True
        for key in sorted(set(table) - _RESOLVER_KEYS):
            self.problem(self.where.key(line, key), f"unknown key {key!r} in [resolver.{name}]")
            ok = False
        url = table.get("url")
        placeholders: list[str] = []
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            self.problem(
                self.where.key(line, "url"),
                f'[resolver.{name}] needs url = "http(s)://..." with {{placeholders}} '
                "from the route's path",
            )
            ok = False
        else:
            placeholders = _placeholders_of(url)
            for placeholder in placeholders:
                if not _NAME.match(placeholder):
                    self.problem(
                        self.where.key(line, "url"), f"bad placeholder {{{placeholder}}} in url"
                    )
                    ok = False
        ttl = self._seconds(table, "ttl_seconds", line, name, default=None, allow_zero=True)
        if ttl is None:
            if "ttl_seconds" not in table:
                self.problem(line, f"[resolver.{name}] needs ttl_seconds (0 to never cache)")
            ok = False
        timeout = self._seconds(
            table, "timeout_seconds", line, name, default=DEFAULT_RESOLVER_TIMEOUT
        )
        if not ok or ttl is None or timeout is None or not isinstance(url, str):
            return None
        return Resolver(name, url, ttl, timeout, tuple(placeholders), line)

    def _seconds(
        self,
        table: dict[str, Any],
        key: str,
        line: int,
        name: str,
        *,
        default: float | None,
        allow_zero: bool = False,
    ) -> float | None:
        if key not in table:
            return default
        value = table[key]
        low_ok = value >= 0 if allow_zero else value > 0
        if isinstance(value, bool) or not isinstance(value, int | float) or not low_ok:
            bound = "0 or more" if allow_zero else "greater than 0"
            self.problem(self.where.key(line, key), f"{key} in [resolver.{name}] must be {bound}")
            return None
        return float(value)

    def routes(self, raw: Any, resolvers: dict[str, Resolver], names: set[str]) -> list[Route]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(self.where.key(0, "route"), "routes are written as [[route]] tables")
            return []
        routes = []
        for index, table in enumerate(raw):
            line = self.where.route(index)
            if not isinstance(table, dict):
                self.problem(line, "each route must be a [[route]] table")
                continue
            route = self._route(table, line, resolvers, names)
            if route is not None:
                routes.append(route)
        return routes

    def _segments(self, path: Any, line: int) -> tuple[Segment, ...] | None:
        at = self.where.key(line, "path")
        if not isinstance(path, str) or not path.startswith("/"):
            self.problem(at, 'a route needs path = "/..." (starting with /)')
            return None
        segments: list[Segment] = []
        seen: set[str] = set()
        parts = path[1:].split("/")
        for index, part in enumerate(parts):
            names = _placeholders_of(part)
            if not names:
                if "{" in part or "}" in part:
                    self.problem(at, f"unbalanced brace in path segment {part!r}")
                    return None
                if not part and index != len(parts) - 1:
                    self.problem(at, "empty segment (//) in path")
                    return None
                if part in (".", ".."):
                    self.problem(at, "dot segments (. or ..) cannot appear in a path")
                    return None
                segments.append(Segment(part))
                continue
            if len(names) > 1 or part != "{" + names[0] + "}":
                self.problem(at, f"a placeholder must be a whole segment, not {part!r}")
                return None
            name, _, kind = names[0].partition(":")
            if not _NAME.match(name):
                self.problem(at, f"placeholder name {name!r} must be letters, digits or _")
                return None
            if kind not in ("", "path"):
                self.problem(at, f"{{{names[0]}}}: the only placeholder type is ':path'")
                return None
            if name in seen:
                self.problem(at, f"placeholder {{{name}}} appears twice")
                return None
            if kind == "path" and index != len(parts) - 1:
                self.problem(at, f"{{{name}:path}} must be the last segment")
                return None
            seen.add(name)
            segments.append(Segment(part, name, rest=kind == "path"))
        return tuple(segments)

    def _methods(self, table: dict[str, Any], line: int) -> tuple[bool, frozenset[str] | None]:
        if "methods" not in table:
            return True, None
        raw = table["methods"]
        at = self.where.key(line, "methods")
        if not isinstance(raw, list) or not raw or not all(isinstance(m, str) for m in raw):
            self.problem(at, 'methods must be a non-empty list such as ["GET", "POST"]')
            return False, None
        methods = frozenset(m.upper() for m in raw)
        bad = sorted(m for m in methods if not _METHOD.match(m))
        if bad:
            self.problem(at, f"not an HTTP method: {', '.join(bad)}")
            return False, None
        return True, methods

    def _route(
        self,
        table: dict[str, Any],
        line: int,
        resolvers: dict[str, Resolver],
        resolver_names: set[str],
    ) -> Route | None:
        ok = True
        for key in sorted(set(table) - _ROUTE_KEYS):
            self.problem(self.where.key(line, key), f"unknown key {key!r} in [[route]]")
            ok = False
        segments = self._segments(table.get("path"), line)
        methods_ok, methods = self._methods(table, line)
        ok = ok and segments is not None and methods_ok
        kinds = [key for key in ("access", "organization", "organization_from") if key in table]
        if len(kinds) != 1:
            self.problem(
                line,
                'a route needs exactly one of access = "public" | "user", '
                'organization = "{placeholder}" or organization_from = "<resolver>"',
            )
            return None
        kind = kinds[0]
        value = table[kind]
        at = self.where.key(line, kind)
        scope = table.get("scope")
        if scope is not None and (not isinstance(scope, str) or scope not in ALL_SCOPES):
            self.problem(
                self.where.key(line, "scope"),
                f"unknown scope {scope!r}; one of: {' '.join(sorted(ALL_SCOPES))}",
            )
            ok = False
        names = {s.placeholder for s in segments or () if s.placeholder is not None}
        access: Access = "organization"
        organization = organization_from = None
        if kind == "access":
            if value not in ("public", "user"):
                self.problem(at, 'access must be "public" or "user"')
                ok = False
            elif scope is not None:
                self.problem(
                    self.where.key(line, "scope"),
                    f"scope applies to organization routes only; this route has access = {value!r}",
                )
                ok = False
            access = "public" if value == "public" else "user"
        elif kind == "organization":
            found = _placeholders_of(value) if isinstance(value, str) else []
            if not isinstance(value, str) or len(found) != 1 or value != "{" + found[0] + "}":
                self.problem(at, 'organization must name a placeholder of the path, e.g. "{org}"')
                ok = False
            elif segments is not None and found[0] not in names:
                self.problem(at, f"organization = {value!r}: the path has no {value} placeholder")
                ok = False
            else:
                organization = found[0]
        else:
            if not isinstance(value, str) or value not in resolver_names:
                self.problem(at, f"organization_from = {value!r}: no [resolver.{value}] is defined")
                ok = False
            elif value in resolvers and segments is not None:
                missing = [p for p in resolvers[value].placeholders if p not in names]
                if missing:
                    self.problem(
                        at,
                        f"[resolver.{value}] uses {{{missing[0]}}}, which this path does not have",
                    )
                    ok = False
                organization_from = value
            else:
                ok = False  # the resolver itself is invalid and reported on its own line
        if not ok or segments is None:
            return None
        return Route(
            line,
            table["path"],
            segments,
            methods,
            access,
            organization,
            organization_from,
            scope if isinstance(scope, str) else None,
        )


def parse_routes(text: str, source: str = "routes") -> RouteTable:
    """The route table written in ``text``; raises ``RouteFileError`` naming every mistake."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_LINE.search(str(error))
        line = int(found.group(1)) if found else 1
        raise RouteFileError(source, [RouteProblem(line, f"not valid TOML: {error}")]) from None
    reader = _Reader(text)
    for key in sorted(set(document) - _TOP_KEYS):
        reader.problem(reader.where.key(0, key), f"unknown key {key!r}")
    default = document.get("default", "deny")
    if default not in ("deny", "public"):
        reader.problem(reader.where.key(0, "default"), 'default must be "deny" or "public"')
    raw_resolvers = document.get("resolver")
    names = set(raw_resolvers) if isinstance(raw_resolvers, dict) else set()
    resolvers = reader.resolvers(raw_resolvers)
    routes = reader.routes(document.get("route"), resolvers, names)
    if reader.problems:
        raise RouteFileError(source, reader.problems)
    return RouteTable(tuple(routes), resolvers, "public" if default == "public" else "deny", source)


def load_routes(path: str | Path) -> RouteTable:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RouteFileError(source, [RouteProblem(0, f"cannot read the file: {error}")]) from None
    return parse_routes(text, source)
