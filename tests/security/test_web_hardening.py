"""Every response, page or API, carries the hardening headers; pages need no inline script."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support import World

PAGES = ["/organizations/", "/settings/account/tokens/"]


def _assert_hardened(headers: httpx.Headers) -> None:
    csp = headers["content-security-policy"]
    directives = {}
    for part in csp.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_pages_and_api_send_hardening_headers_and_no_inline_script(world: World) -> None:
    session = world.session()
    slug = world.organization(session)
    paths = ["/login/", *PAGES, f"/settings/{slug}/security/", f"/settings/{slug}/audit-log/"]
    anonymous = world.anonymous()
    for path in paths:
        response = (anonymous if path == "/login/" else session).get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert response.headers["content-type"].startswith("text/html")
        _assert_hardened(response.headers)
        html = response.text
        inline = [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]
        assert inline == [], (path, inline)
        assert not re.search(r"\son[a-z]+\s*=", html), f"inline event handler on {path}"
        assert not re.search(r"<[a-z]+[^>]*\sstyle\s*=", html), f"inline style on {path}"
    for path in ["/healthz", f"/api/0/organizations/{slug}/", "/api/0/nothing/"]:
        _assert_hardened(session.get(path).headers)


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_pages_are_not_cached_and_errors_are_hardened_too(world: World) -> None:
    anonymous = world.anonymous()
    missing = anonymous.get("/settings/no-such-org/security/", follow_redirects=False)
    assert missing.status_code in (302, 303, 307, 404)
    _assert_hardened(missing.headers)
    session = world.session()
    page = session.get("/settings/account/tokens/")
    assert "no-store" in page.headers.get("cache-control", "")
