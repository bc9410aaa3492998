"""A real OpenID provider on loopback (oidc-provider-mock), and a browserless walk through it.

The provider does not check PKCE verifiers, so a recorder in front of it keeps what each
authorization request and code exchange carried, for the tests to check. Codes and ID tokens it
issues are registered with the secret-leak watch.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import oidc_provider_mock
import werkzeug.serving

from tests.leakwatch import WATCH
from tests.support import ApiClient

__all__ = ["IdentityProvider", "identity_provider", "s256"]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass
class Recorded:
    authorizations: list[dict[str, str]] = field(default_factory=list)
    exchanges: list[dict[str, str]] = field(default_factory=list)


class _Recorder:
    """WSGI middleware: what reaches the authorization and token endpoints."""

    def __init__(self, app: Any, recorded: Recorded) -> None:
        self.app = app
        self.recorded = recorded

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize" and environ["REQUEST_METHOD"] == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            self.recorded.authorizations.append({k: v[0] for k, v in query.items()})
        if path == "/oauth2/token":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = BytesIO(body)
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            self.recorded.exchanges.append(form)
            if "code" in form:
                WATCH.secret(form["code"], "an authorization code")
            return self._watch_tokens(environ, start_response)
        return self.app(environ, start_response)  # type: ignore[no-any-return]

    def _watch_tokens(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        chunks = list(self.app(environ, start_response))
        try:
            issued = json.loads(b"".join(chunks))
        except ValueError:
            issued = {}
        for name in ("id_token", "access_token", "refresh_token"):
            if isinstance(issued.get(name), str):
                WATCH.secret(issued[name], f"an {name.replace('_', ' ')}")
        return chunks


class IdentityProvider:
    def __init__(self, server: werkzeug.serving.BaseWSGIServer, recorded: Recorded) -> None:
        self.server = server
        self.recorded = recorded
        self.issuer = f"http://localhost:{server.server_port}"
        self.http = httpx.Client(timeout=30)

    def person(self, email: str, *, verified: bool = True, name: str = "") -> str:
        """A person at the provider; returns their subject."""
        subject = "sub-" + uuid.uuid4().hex[:12]
        claims = {"email": email, "email_verified": verified, "name": name or email}
        response = self.http.put(f"{self.issuer}/users/{subject}", json=claims)
        assert response.status_code == 204, response.text
        return subject

    def authorize(self, authorization_url: str, subject: str) -> str:
        """Sign ``subject`` in at the provider's page (a form post); the callback URL."""
        assert authorization_url.startswith(self.issuer + "/oauth2/authorize?"), authorization_url
        response = self.http.post(authorization_url, data={"sub": subject})
        assert response.status_code == 302, response.text
        callback = response.headers["location"]
        code = parse_qs(urlsplit(callback).query).get("code")
        if code:
            WATCH.secret(code[0], "an authorization code")
        return callback

    def close(self) -> None:
        self.http.close()


@contextmanager
def identity_provider(
    *, token_max_age: dt.timedelta = dt.timedelta(hours=1)
) -> Iterator[IdentityProvider]:
    recorded = Recorded()
    app = oidc_provider_mock.app(require_nonce=True, access_token_max_age=token_max_age)
    server = werkzeug.serving.make_server("localhost", 0, _Recorder(app, recorded), threaded=True)
    # A daemon, so a provider left running can never keep the test process from exiting.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    provider = IdentityProvider(server, recorded)
    try:
        yield provider
    finally:
        provider.close()
        server.shutdown()
        thread.join(timeout=20)
        server.server_close()


def start(client: ApiClient, path: str) -> httpx.Response:
    return client.get(path, follow_redirects=False)


def sign_in(
    client: ApiClient, provider: IdentityProvider, slug: str, subject: str, query: str = ""
) -> httpx.Response:
    """Walk ``/auth/login/{slug}/`` through the provider and back; the callback's answer."""
    began = start(client, f"/auth/login/{slug}/{query}")
    assert began.status_code == 303, began.text
    callback = provider.authorize(began.headers["location"], subject)
    return client.get(callback, follow_redirects=False)


def csrf_of(client: ApiClient) -> str:
    """The session's CSRF token (a session that came through SSO learns it here)."""
    response = client.get("/api/0/auth/session/")
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    client.http.headers["X-CSRF-Token"] = token
    return token
