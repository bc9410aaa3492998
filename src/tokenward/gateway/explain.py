"""``tokenward gateway explain``: which rule a request meets and what it needs, in words."""

from __future__ import annotations

from tokenward.errors import ApiError
from tokenward.gateway.original import path_segments
from tokenward.gateway.resolver import resolver_url
from tokenward.gateway.routes import Route, RouteTable

__all__ = ["explain", "summary"]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def summary(table: RouteTable) -> str:
    return (
        f"{table.source}: {_count(len(table.routes), 'route')}, "
        f"{_count(len(table.resolvers), 'resolver')}, "
        f"unmatched requests: {'public' if table.default == 'public' else 'refused (404)'}"
    )


def _methods(route: Route) -> str:
    return " ".join(sorted(route.methods)) if route.methods is not None else "any method"


def _needs(route: Route, organization: str) -> str:
    if route.access == "public":
        return "nothing: anyone passes (identity headers are added when a valid credential is sent)"
    if route.access == "user":
        return (
            "a signed-in user: a session or a personal token (organization tokens are refused "
            "with 403 user-required)"
        )
    scope = f"the {route.scope} scope" if route.scope else "no particular scope"
    return (
        f"a member of {organization} (or its organization token) with {scope}, then the "
        "organization's own rules: two-factor, personal tokens allowed, revoked or too long-lived"
    )


def explain(table: RouteTable, method: str, uri: str) -> str:
    method = method.upper()
    lines = [f"{method} {uri}"]
    try:
        segments = path_segments(uri)
    except ApiError as error:
        lines.append(f"  refused with {error.status} {error.code}: {error.message}")
        return "\n".join(lines)
    found = table.match(method, segments)
    if found is None:
        if table.default == "public":
            lines.append('  no route matches: let through as public (default = "public")')
        else:
            lines.append('  no route matches: refused with 404 not-found (default = "deny")')
        return "\n".join(lines)
    route = found.route
    lines.append(f"  matches {table.source}:{route.line}: {_methods(route)} {route.path}")
    for name, value in found.values.items():
        lines.append(f"  {{{name}}} = {value}")
    organization = "the organization"
    if route.organization is not None:
        slug = found.values[route.organization]
        organization = f"'{slug}'"
        lines.append(f"  organization: {slug} (from {{{route.organization}}})")
    elif route.organization_from is not None:
        resolver = table.resolvers[route.organization_from]
        ttl = f"cached {resolver.ttl_seconds:g} s" if resolver.ttl_seconds else "not cached"
        lines.append(
            f"  organization: asked of resolver '{resolver.name}': GET "
            f"{resolver_url(resolver, found.values)} ({ttl}; 404 there is 404 here, "
            "any failure is 503)"
        )
    lines.append(f"  needs: {_needs(route, organization)}")
    return "\n".join(lines)
