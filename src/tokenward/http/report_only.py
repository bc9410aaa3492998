"""``Tokenward-Report-Only``: tells a client that the request passed only because its
organization runs its personal-token rules in report mode, and which refusal it would get."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["REPORT_ONLY_KEY", "ReportOnlyMiddleware"]

REPORT_ONLY_KEY = "tokenward.report_only"  # set in the scope's state by the gate


class ReportOnlyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_note(message: Message) -> None:
            code = state.get(REPORT_ONLY_KEY)
            if message["type"] == "http.response.start" and code:
                headers = [*message.get("headers", []), (b"tokenward-report-only", code.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_note)
