"""Which organization owns an object the URL names: asked of the upstream, cached, coalesced.

A resolver URL answers ``{"organization": "<slug>"}``, or 404 when the object does not exist.
Answers are kept for the resolver's ``ttl_seconds``; concurrent requests for the same object
share one call; anything else (unreachable, timeout, another status, a body without a slug)
is a failure, and a failure is never an allow: the caller answers 503.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from urllib.parse import quote

import httpx

from tokenward.auth.lru import MISSING, ExpiringLRU
from tokenward.gateway.routes import Resolver

__all__ = ["OrganizationResolver", "ResolverUnavailable", "resolver_url"]

log = logging.getLogger("tokenward.gateway")

_MAX_ENTRIES = 100_000
_MAX_SLUG = 200


class ResolverUnavailable(Exception):
    """The resolver could not say which organization owns the object."""


def resolver_url(resolver: Resolver, values: Mapping[str, str]) -> str:
    url = resolver.url
    for name in resolver.placeholders:
        url = url.replace("{" + name + "}", quote(values[name], safe=""))
    return url


class OrganizationResolver:
    def __init__(self, resolvers: Mapping[str, Resolver]) -> None:
        self._caches: dict[str, ExpiringLRU[str, str | None]] = {
            name: ExpiringLRU(_MAX_ENTRIES, resolver.ttl_seconds)
            for name, resolver in resolvers.items()
        }
        self._pending: dict[str, asyncio.Future[str | None]] = {}
        self._client: httpx.AsyncClient | None = None
        self.calls = 0  # resolver requests made, for tests and metrics

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # Keep-alive to the upstream; no environment proxies, no redirects followed.
            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def organization(self, resolver: Resolver, values: Mapping[str, str]) -> str | None:
        """The slug of the owning organization, None when the object does not exist."""
        url = resolver_url(resolver, values)
        cache = self._caches[resolver.name]
        cached = cache.get(url)
        if cached is not MISSING:
            return cached
        pending = self._pending.get(url)
        if pending is None:
            pending = asyncio.ensure_future(self._ask(resolver, url))
            self._pending[url] = pending
            pending.add_done_callback(lambda _: self._pending.pop(url, None))
        # Shielded: one caller giving up (its client went away) must not cancel the others'.
        return await asyncio.shield(pending)

    async def _ask(self, resolver: Resolver, url: str) -> str | None:
        self.calls += 1
        try:
            response = await self._http().get(url, timeout=resolver.timeout_seconds)
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as error:
            log.warning("resolver %s failed: %s", resolver.name, type(error).__name__)
            raise ResolverUnavailable(resolver.name) from None
        if response.status_code == 404:
            return None  # not cached: the object may be created a moment later
        slug = None
        if response.status_code == 200:
            try:
                body = response.json()
            except ValueError:
                body = None
            slug = body.get("organization") if isinstance(body, dict) else None
        if not isinstance(slug, str) or not slug or len(slug) > _MAX_SLUG:
            log.warning(
                "resolver %s answered %s without an organization",
                resolver.name,
                response.status_code,
            )
            raise ResolverUnavailable(resolver.name)
        if resolver.ttl_seconds > 0:
            self._caches[resolver.name].put(url, slug)
        return slug
