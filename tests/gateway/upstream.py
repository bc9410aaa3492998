"""The API behind the proxy: it echoes what reached it, and tells which organization owns an issue.

It knows nothing of credentials. Every request it serves answers with its method, path and the
``Tokenward-*`` headers it received, so a test sees exactly what the proxy let through.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support import free_port

__all__ = ["Upstream", "running_upstream"]


class Upstream:
    def __init__(self) -> None:
        self.issues: dict[str, str] = {}  # issue id -> organization slug
        self.resolver_calls = 0
        self.resolver_delay = 0.0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.address = f"127.0.0.1:{self.port}"
        self.app = Starlette(
            routes=[
                Route("/internal/issues/{id}/org", self._owner),
                Route("/{path:path}", self._echo, methods=["GET", "HEAD", "POST", "PUT", "DELETE"]),
            ]
        )

    async def _owner(self, request: Request) -> Response:
        self.resolver_calls += 1
        if self.resolver_delay:
            await asyncio.sleep(self.resolver_delay)
        slug = self.issues.get(request.path_params["id"])
        if slug is None:
            return JSONResponse({"detail": "no such issue"}, status_code=404)
        return JSONResponse({"organization": slug})

    async def _echo(self, request: Request) -> Response:
        tokenward = {
            name.lower(): value
            for name, value in request.headers.items()
            if name.lower().startswith("tokenward-")
        }
        return JSONResponse(
            {"method": request.method, "path": request.url.path, "tokenward": tokenward}
        )


@contextmanager
def running_upstream() -> Iterator[Upstream]:
    upstream = Upstream()
    config = uvicorn.Config(
        upstream.app, host="127.0.0.1", port=upstream.port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the upstream did not start"
        time.sleep(0.02)
    try:
        yield upstream
    finally:
        server.should_exit = True
        thread.join(timeout=20)
