"""An identity provider as its discovery document describes it, fetched and checked."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

__all__ = [
    "HTTP_TIMEOUT_SECONDS",
    "ProviderMetadata",
    "ProviderUnreachable",
    "fetch_metadata",
    "get_json",
    "issuer_problem",
]

HTTP_TIMEOUT_SECONDS = 10.0
_MAX_DOCUMENT_BYTES = 256 * 1024


class ProviderUnreachable(Exception):
    """The provider could not be reached or answered something that is not a valid document.

    The message is safe to show: it names the URL and what was wrong, never a secret.
    """


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def issuer_problem(url: str) -> str | None:
    """Why ``url`` cannot be an issuer (https, or http on loopback only), or None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "must be an absolute URL"
    if parts.scheme not in {"http", "https"} or not host:
        return "must be an absolute https:// URL"
    if parts.scheme == "http" and not _is_loopback(host):
        return "must use https (http is accepted on loopback addresses only)"
    if parts.query or parts.fragment or parts.username or parts.password:
        return "must not carry a query, fragment or credentials"
    return None


def _endpoint(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or issuer_problem(value) is not None:
        raise ProviderUnreachable(f"the discovery document has no valid {name}")
    return value


async def get_json(client: httpx.AsyncClient, url: str, what: str) -> Any:
    try:
        response = await client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise ProviderUnreachable(
            f"{what} at {url} could not be reached ({type(error).__name__})"
        ) from None
    if response.status_code != 200:
        raise ProviderUnreachable(f"{what} at {url} answered HTTP {response.status_code}")
    if len(response.content) > _MAX_DOCUMENT_BYTES:
        raise ProviderUnreachable(f"{what} at {url} is too large")
    try:
        return response.json()
    except ValueError:
        raise ProviderUnreachable(f"{what} at {url} is not JSON") from None


async def fetch_metadata(issuer: str) -> ProviderMetadata:
    """The issuer's discovery document, checked: it must name this issuer and its endpoints."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as client:
        document = await get_json(client, url, "The discovery document")
    if not isinstance(document, dict):
        raise ProviderUnreachable(f"the discovery document at {url} is not a JSON object")
    if document.get("issuer") != issuer:
        raise ProviderUnreachable(
            f"the discovery document at {url} names the issuer {document.get('issuer')!r}, "
            f"not {issuer!r}"
        )
    supported = document.get("response_types_supported")
    if isinstance(supported, list) and "code" not in supported:
        raise ProviderUnreachable("the provider does not support the authorization code flow")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=_endpoint(document, "authorization_endpoint"),
        token_endpoint=_endpoint(document, "token_endpoint"),
        jwks_uri=_endpoint(document, "jwks_uri"),
    )
