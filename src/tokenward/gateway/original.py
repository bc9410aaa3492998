"""The request a proxy asks about: its method and path, read the way each proxy sends them.

The path is split into decoded segments once, here. A path that the upstream could read
differently from Tokenward (dot segments, encoded slashes or backslashes, empty segments, bytes
that are not UTF-8) is refused rather than guessed at: otherwise ``/public/../orgs/acme/`` could
pass as a public route and reach the upstream as an organization's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from tokenward.errors import ApiError

__all__ = ["FORWARD_AUTH_PREFIX", "OriginalRequest", "original_request", "path_segments"]

FORWARD_AUTH_PREFIX = "/forward-auth"
_MAX_URI = 8192
_AMBIGUOUS = ("%2f", "%5c", "\\")


@dataclass(frozen=True, slots=True)
class OriginalRequest:
    method: str
    uri: str
    segments: tuple[str, ...]


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid-request", message)


def path_segments(uri: str) -> tuple[str, ...]:
    """The decoded segments of ``uri``'s path (its query and fragment dropped)."""
    if len(uri) > _MAX_URI:
        raise _invalid("The original URI is too long.")
    path = uri.split("#", 1)[0].split("?", 1)[0]
    if not path.startswith("/"):
        raise _invalid("The original URI must be a path starting with '/'.")
    raw = path[1:].split("/")
    segments = []
    for index, part in enumerate(raw):
        lowered = part.lower()
        if any(mark in lowered for mark in _AMBIGUOUS):
            raise _invalid("The original path has an encoded slash or a backslash; refused.")
        try:
            decoded = unquote_to_bytes(part).decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid("The original path is not valid UTF-8 once decoded.") from None
        if decoded in (".", "..") or "/" in decoded:
            raise _invalid("The original path has dot segments; refused.")
        if not decoded and index != len(raw) - 1:
            raise _invalid("The original path has an empty segment (//); refused.")
        segments.append(decoded)
    return tuple(segments)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value.strip() if value is not None and value.strip() else None


def original_request(
    headers: Mapping[str, str], method: str, path: str, query: str
) -> OriginalRequest:
    """What the proxy asks about: X-Forwarded-Method/-Uri (Traefik, Caddy), else
    X-Original-Method/-URI (nginx), else the sub-request itself below ``/forward-auth`` (Envoy)."""
    for method_header, uri_header in (
        ("x-forwarded-method", "x-forwarded-uri"),
        ("x-original-method", "x-original-uri"),
    ):
        uri = _header(headers, uri_header)
        named_method = _header(headers, method_header)
        if uri is None and named_method is None:
            continue
        if uri is None or named_method is None:
            # Judging a POST as the GET the sub-request was sent as would let writes through
            # on a read scope: both halves or nothing.
            raise _invalid(f"{uri_header} and {method_header} must be sent together.")
        return OriginalRequest(named_method.upper(), uri, path_segments(uri))
    rest = path[len(FORWARD_AUTH_PREFIX) :] if path.startswith(FORWARD_AUTH_PREFIX) else path
    uri = (rest or "/") + (f"?{query}" if query else "")
    return OriginalRequest(method.upper(), uri, path_segments(rest or "/"))
