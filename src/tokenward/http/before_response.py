"""Run what a request asked to run before its response goes out: releasing store sessions.

Sending a response is client I/O, and a client that reads slowly makes it last as long as it
likes. Whatever holds a store connection registers its release here, and it runs just before the
first byte of the response is sent, whatever sends it (handler, error handler, page).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BeforeResponseMiddleware", "before_response"]

_CALLBACKS_KEY = "tokenward.before_response"


def before_response(scope: Scope, callback: Callable[[], Awaitable[None]]) -> None:
    """Have ``callback`` run once, right before this request's response starts."""
    scope.setdefault("state", {}).setdefault(_CALLBACKS_KEY, []).append(callback)


class BeforeResponseMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                for callback in scope.get("state", {}).pop(_CALLBACKS_KEY, []):
                    await callback()
            await send(message)

        await self.app(scope, receive, sending)
