"""Errors on page routes answer with an HTML page; the JSON API keeps its coded JSON.

Each JSON handler still decides the status, code and message (and logs); for a page path its
answer is dressed as HTML. A page that needs a signed-in user sends a visitor to the sign-in page.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from tokenward.errors import ApiError
from tokenward.refusals import Refusal
from tokenward.web.templating import render

__all__ = ["install_page_errors", "login_url"]

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]

_NOT_PAGES = ("/api/", "/static/")
_NOT_PAGE_PATHS = frozenset({"/healthz", "/openapi.json", "/metrics"})
_DRESSED = (
    ApiError,
    HTTPException,
    RequestValidationError,
    SQLAlchemyError,
    OSError,
    TimeoutError,
    Exception,
)

_TITLES = {
    401: "Two-factor authentication or SSO is required",
    403: "You do not have access to this",
    404: "Page not found",
    405: "This page cannot be used that way",
    429: "Too many attempts",
    503: "Tokenward cannot reach its database",
}
# What a person reads on an error page: the refusal's explanation, else the error's message.
_EXPLANATIONS: dict[str, str] = {
    refusal: text for refusal in Refusal if (text := refusal.explanation) is not None
}


def is_page_path(path: str) -> bool:
    return not path.startswith(_NOT_PAGES) and path not in _NOT_PAGE_PATHS


# The 401s that signing in (again) mends.
SIGN_IN_AGAIN = frozenset({"authentication-required", "invalid-token", "token-expired"})


def login_url(next_path: str) -> str:
    return "/login/?next=" + quote(next_path, safe="/")


def _dressed(json_handler: Handler) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, error: Exception) -> Response:
        answer = json_handler(request, error)
        response = await answer if inspect.isawaitable(answer) else answer
        if not is_page_path(request.url.path):
            return response
        status = response.status_code
        detail: dict[str, Any] = json.loads(bytes(response.body)).get("detail", {})
        code = str(detail.get("code", "error"))
        if code in SIGN_IN_AGAIN:
            # Back to the page after signing in; a form post cannot be replayed, so not to it.
            # Other 401s (2fa-required) would only send a signed-in person round in a circle.
            back = request.url.path if request.method == "GET" else "/organizations/"
            return RedirectResponse(login_url(back), status_code=303)
        if code == "sso-required" and request.method == "GET":
            # Through the organization's identity provider, and back to this page.
            login = str(detail.get("extra", {}).get("loginUrl", "/organizations/"))
            return RedirectResponse(
                login + "?next=" + quote(request.url.path, safe="/"), status_code=303
            )
        retry_after = response.headers.get("retry-after")
        return render(
            request,
            "error.html",
            {
                "status": status,
                "title": _TITLES.get(status, "Something went wrong"),
                "message": _EXPLANATIONS.get(code, str(detail.get("message", ""))),
                "code": code,
            },
            status_code=status,
            headers={"Retry-After": retry_after} if retry_after else None,
        )

    return handle


def install_page_errors(app: FastAPI) -> None:
    """Wrap the installed JSON handlers; call after ``install_error_handlers``."""
    for kind in _DRESSED:
        handler = app.exception_handlers.get(kind)
        if handler is not None:
            app.add_exception_handler(kind, _dressed(handler))
