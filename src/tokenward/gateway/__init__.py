"""Gateway mode: forward authentication, so an API in any language sits behind Tokenward's rules."""

from tokenward.gateway.endpoint import install_gateway
from tokenward.gateway.routes import RouteFileError, RouteTable, load_routes, parse_routes

__all__ = ["RouteFileError", "RouteTable", "install_gateway", "load_routes", "parse_routes"]
