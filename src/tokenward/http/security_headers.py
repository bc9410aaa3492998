"""Headers every response carries: no framing, no sniffing, a strict Content-Security-Policy;
and ``Cache-Control: private`` on API answers to callers with credentials."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeadersMiddleware", "allow_forms_to_identity_providers"]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_NAMES = {name for name, _ in _HEADERS}
_CREDENTIALS = frozenset({b"authorization", b"cookie"})

# A page whose form starts an SSO sign-in: the form's redirects end at an identity provider,
# and browsers apply form-action to every hop. Where issuers may be (https, or http on loopback).
_FORM_ACTION_KEY = "tokenward.form_action_to_identity_providers"
_IDENTITY_PROVIDERS = "https: http://localhost:* http://127.0.0.1:*"
_SSO_FORM_HEADERS = [
    (
        b"content-security-policy",
        CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {_IDENTITY_PROVIDERS}"
        ).encode(),
    ),
    *_HEADERS[1:],
]


def allow_forms_to_identity_providers(scope: Scope) -> None:
    scope.setdefault("state", {})[_FORM_ACTION_KEY] = True


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        private = scope["path"].startswith("/api/") and any(
            name in _CREDENTIALS for name, _ in scope["headers"]
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k not in _NAMES]
                if private and not any(k == b"cache-control" for k, _ in headers):
                    # An answer to a caller with credentials is theirs alone: no shared cache.
                    headers.append((b"cache-control", b"private"))
                sso_form = scope.get("state", {}).get(_FORM_ACTION_KEY, False)
                message = {
                    **message,
                    "headers": headers + (_SSO_FORM_HEADERS if sso_form else _HEADERS),
                }
            await send(message)

        await self.app(scope, receive, send_with_headers)
