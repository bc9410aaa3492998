"""Hostile input gets a 4xx in the coded error shape, never a 5xx or a stack trace."""

from __future__ import annotations

import httpx
import pytest

from tests.support import ApiClient, World, error_code, unique

CODED = {
    "invalid-request",
    "invalid-token",
    "not-found",
    "payload-too-large",
    "method-not-allowed",
    "authentication-required",
    "csrf-failed",
}


def assert_coded_4xx(response: httpx.Response, code: str | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert error_code(response) in ({code} if code else CODED), response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "authorization",
    [
        b"Bearer",
        b"Basic dXNlcjpwYXNz",
        b"twp_" + b"a" * 49,
        b"Bearer " + b"A" * 8000,
        b"Bearer twp_\xff\xfe\xfd",
        b"Bearer two_" + "é".encode() * 24 + b"x",
        b"Bearer twp_" + b"0" * 49,
        b"Bearer\ttwp_" + b"0" * 49,
    ],
)
def test_odd_authorization_headers_are_invalid_tokens(world: World, authorization: bytes) -> None:
    client = world.anonymous()
    response = client.get("/api/0/users/me/", headers={"Authorization": authorization})
    assert_coded_4xx(response, "invalid-token")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b"42",
        b'"slug"',
        b'{"slug": "\xff\xfe", "name": "x"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"slug": ' + b"[" * 50_000 + b"]" * 50_000 + b', "name": "x"}',
        b'{"slug": "ok-slug", "name": "' + b"n" * 5000 + b'"}',
        b'{"slug": "ok-slug", "name": "x", "unexpected": true}',
        b"\x00\x01\x02",
        b'{"slug": "nul-slug", "name": "a\\u0000b"}',
    ],
)
def test_malformed_bodies_are_invalid_requests(world: World, body: bytes) -> None:
    owner = world.session()
    response = owner.post(
        "/api/0/organizations/", content=body, headers={"Content-Type": "application/json"}
    )
    assert_coded_4xx(response, "invalid-request")
    assert response.json()["detail"]["extra"]["errors"]


@pytest.mark.parametrize(
    "slug", ["../etc", "a/b", "ÁCME", "acme\u200b", "acme ", "-acme", "a" * 51, "", "%2e%2e"]
)
def test_slugs_with_path_tricks_or_unicode_are_refused(world: World, slug: str) -> None:
    owner = world.session()
    response = owner.post("/api/0/organizations/", json={"slug": slug, "name": "Acme"})
    assert_coded_4xx(response, "invalid-request")


@pytest.mark.parametrize(
    "path",
    [
        "/api/0/organizations/..%2F..%2Fusers%2Fme/",
        "/api/0/organizations/%00/",
        "/api/0/organizations/%ff%fe/",
        "/api/0/organizations/%C3%A1cme/",
        "/api/0/organizations/acme%2Fmembers/",
        "/api/0/projects/-1/",
        "/api/0/projects/99999999999999999999999/",
        "/api/0/projects/%ff/",
        "/api/0/projects/1e3/",
    ],
)
def test_odd_paths_answer_coded_404(world: World, path: str) -> None:
    owner = world.session()
    response = owner.get(path)
    assert_coded_4xx(response, "not-found")


def test_raw_non_utf8_path_and_query_bytes_are_refused_cleanly(world: World) -> None:
    owner = world.session()
    slug = world.organization(owner)
    url = httpx.URL(world.server.url + f"/api/0/organizations/{slug}/projects/")
    odd = url.copy_with(raw_path=url.raw_path + b"?per_page=%ff&cursor=%fe")
    response = owner.http.get(odd)
    assert_coded_4xx(response, "invalid-request")


@pytest.mark.parametrize(
    "query", ["per_page=0", "per_page=101", "per_page=abc", "cursor=abc", "cursor=" + "9" * 40]
)
def test_bad_pagination_queries_are_invalid_requests(world: World, query: str) -> None:
    owner = world.session()
    slug = world.organization(owner)
    response = owner.get(f"/api/0/organizations/{slug}/projects/?{query}")
    assert_coded_4xx(response, "invalid-request")


def test_nul_in_login_and_queries_is_refused(world: World) -> None:
    client = world.anonymous()
    login = client.post("/api/0/auth/login/", json={"email": "a\x00@x.io", "password": "p\x00"})
    assert_coded_4xx(login, "invalid-request")
    owner = world.session()
    slug = world.organization(owner)
    audit = owner.get(f"/api/0/organizations/{slug}/audit-logs/", params={"event": "org\x00"})
    assert_coded_4xx(audit, "invalid-request")


def test_garbage_session_cookies_count_as_no_session(world: World) -> None:
    client = world.anonymous()
    garbage = b'tokenward_session=\xff; other="; bad'
    response = client.get("/api/0/users/me/", headers={"Cookie": garbage})
    assert_coded_4xx(response, "authentication-required")
    forged = ApiClient(world.server.url, {"Cookie": "tokenward_session=" + unique("x") + ".sig"})
    world.clients.append(forged)
    assert_coded_4xx(forged.get("/api/0/users/me/"), "authentication-required")


def test_unknown_methods_and_routes_are_coded(world: World) -> None:
    client = world.anonymous()
    assert_coded_4xx(client.request("PATCH", "/api/0/organizations/"), "method-not-allowed")
    assert_coded_4xx(client.get("/api/0/nothing-here/"), "not-found")
