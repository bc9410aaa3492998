"""A SCIM client for the conformance checker, through an identity provider's attribute mapping.

scim2-tester invents random ``userName``s; Tokenward's ``userName`` is an email. Like the mapping
an identity provider is configured with, the transport appends a domain on the way out and
removes it on the way back, in bodies and in filters.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient

DOMAIN = "@idp.example.com"
_FILTER_VALUE = re.compile(r'(userName\s+eq\s+")([^"@]*)(")', re.IGNORECASE)


def _map(value: Any, outbound: bool) -> Any:
    if isinstance(value, list):
        return [_map(item, outbound) for item in value]
    if not isinstance(value, dict):
        return value
    mapped = {key: _map(item, outbound) for key, item in value.items()}
    for key, item in mapped.items():
        if key.lower() == "username" and isinstance(item, str):
            mapped[key] = _address(item, outbound)
    targets_user_name = str(mapped.get("path", "")).lower() == "username"
    if outbound and targets_user_name and isinstance(mapped.get("value"), str):
        mapped["value"] = _address(mapped["value"], outbound)
    return mapped


def _address(name: str, outbound: bool) -> str:
    if outbound:
        return name if "@" in name else name + DOMAIN
    return name.removesuffix(DOMAIN)


class EmailMapping(httpx2.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        if url.query:
            pairs = parse_qsl(url.query.decode(), keep_blank_values=True)
            pairs = [
                (
                    k,
                    _FILTER_VALUE.sub(lambda m: m[1] + m[2] + DOMAIN + m[3], v)
                    if k == "filter"
                    else v,
                )
                for k, v in pairs
            ]
            url = url.copy_with(query=urlencode(pairs).encode())
        content = request.read()
        if content:
            with contextlib.suppress(ValueError):
                content = json.dumps(_map(json.loads(content), True)).encode()
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
        mapped = httpx2.Request(request.method, url, headers=headers, content=content)
        response = self.inner.handle_request(mapped)
        body = response.read()
        if body and b"json" in response.headers.get("content-type", "").encode():
            body = json.dumps(_map(json.loads(body), False)).encode()
        out_headers = [
            (k, v)
            for k, v in response.headers.raw
            if k.lower() not in (b"content-length", b"content-encoding", b"transfer-encoding")
        ]
        return httpx2.Response(response.status_code, headers=out_headers, content=body)

    def close(self) -> None:
        self.inner.close()


def scim_client(base_url: str, token: str) -> tuple[SyncSCIMClient, httpx2.Client]:
    http = httpx2.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        transport=EmailMapping(),
        timeout=30,
    )
    return SyncSCIMClient(http), http
