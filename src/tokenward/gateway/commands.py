"""``tokenward gateway check-routes FILE`` and ``tokenward gateway explain FILE METHOD URI``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tokenward.gateway.explain import explain, summary
from tokenward.gateway.route_file import RouteFileError, load_routes
from tokenward.gateway.routes import RouteTable

__all__ = ["add_gateway_commands", "refuse_invalid_routes"]


def refuse_invalid_routes(routes_file: str | None) -> None:
    """Stop ``serve`` before it starts on a route file with mistakes, naming each one's line."""
    if routes_file is None:
        return
    try:
        load_routes(routes_file)
    except RouteFileError as error:
        raise SystemExit(f"tokenward: TOKENWARD_GATEWAY_ROUTES is not valid:\n{error}") from None


def _table(path: str) -> RouteTable | None:
    try:
        return load_routes(path)
    except RouteFileError as error:
        print(error, file=sys.stderr)
        return None


def _check_routes(args: argparse.Namespace) -> int:
    table = _table(args.file)
    if table is None:
        return 1
    print(f"{summary(table)}: OK")
    return 0


def _explain(args: argparse.Namespace) -> int:
    table = _table(args.file)
    if table is None:
        return 1
    print(explain(table, args.method, args.uri))
    return 0


def add_gateway_commands(commands: Any) -> None:
    """Adds ``gateway`` and its subcommands to the parser's subcommands."""
    gateway = commands.add_parser("gateway", help="gateway mode: check and explain route rules")
    subcommands = gateway.add_subparsers(dest="gateway_command", required=True)
    check_routes = subcommands.add_parser("check-routes", help="validate a route file")
    check_routes.add_argument("file")
    check_routes.set_defaults(handler=_check_routes)
    explained = subcommands.add_parser(
        "explain", help="show which rule a request matches and what it needs"
    )
    explained.add_argument("file")
    explained.add_argument("method")
    explained.add_argument("uri")
    explained.set_defaults(handler=_explain)
