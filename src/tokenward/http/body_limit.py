"""Read the whole request body before the application runs, within a size and a time limit.

The application (authentication, the gate, handlers) touches the store; a client that sends its
body slowly or never must not keep a store connection or transaction waiting. So the body is read
here first: over ``max_bytes`` is ``413 payload-too-large``, not all there within
``timeout_seconds`` is ``408 request-timeout``; only then does the application see the request,
with the body already in memory.
"""

from __future__ import annotations

import json
import math

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenward.errors import error_body

__all__ = ["BodyLimitMiddleware"]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_BODY_TIMEOUT_SECONDS = 10.0


class PayloadTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


async def _refuse(send: Send, status: int, body: dict[str, object]) -> None:
    encoded = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(encoded)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": encoded})


def _too_large(limit: int) -> dict[str, object]:
    return error_body(
        "payload-too-large",
        f"The request body is larger than {limit} bytes.",
        {"max_bytes": limit},
    )


def _too_slow(seconds: float) -> dict[str, object]:
    whole = math.ceil(seconds)
    return error_body(
        "request-timeout",
        f"The request body did not arrive within {whole} seconds.",
        {"timeout_seconds": whole},
    )


def _declared(scope: Scope) -> tuple[int | None, bool]:
    """The declared length (None when unreadable) and whether a body follows at all."""
    length, has_body = 0, False
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit() or len(value) > 18:
                return None, True
            length = int(value)
            has_body = has_body or length > 0
        elif name == b"transfer-encoding":
            has_body = True
    return length, has_body


class BodyLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = DEFAULT_MAX_BODY_BYTES,
        timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, has_body = _declared(scope)
        if length is None or length > self.max_bytes:
            await _refuse(send, 413, _too_large(self.max_bytes))
            return
        if not has_body:
            await self.app(scope, receive, send)
            return
        try:
            with anyio.fail_after(self.timeout_seconds):
                body = await self._read(receive)
        except PayloadTooLarge:
            await _refuse(send, 413, _too_large(self.max_bytes))
            return
        except TimeoutError:
            await _refuse(send, 408, _too_slow(self.timeout_seconds))
            return
        except ClientGone:
            return  # nobody left to answer
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: only a disconnect can come

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                raise PayloadTooLarge  # a chunked body that grew past the limit
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
