"""Sessions: login, the cookie, CSRF on unsafe requests, the Authorization header's precedence,
logout; and what a request without any credential gets."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie

import httpx
import pytest

from tests.support import (
    PASSWORD,
    LiveServer,
    World,
    assert_error,
    error_fields,
    running_server,
)
from tokenward.auth.sessions import COOKIE_NAME

LOGIN = "/api/0/auth/login/"


def test_login_answers_the_user_and_a_csrf_token_and_sets_the_cookie(world: World) -> None:
    account = world.user("Ada")
    client = world.anonymous()
    response = client.post(LOGIN, json={"email": account.email, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user", "csrf_token"}
    assert set(body["user"]) == {"id", "email", "name"}
    assert body["user"]["email"] == account.email
    assert body["user"]["name"] == "Ada"
    assert isinstance(body["user"]["id"], str)
    assert isinstance(body["csrf_token"], str) and len(body["csrf_token"]) >= 16

    morsel = session_cookie(response)[COOKIE_NAME]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert not morsel["secure"]  # plain http on loopback
    assert morsel["path"] == "/"
    assert PASSWORD not in response.headers["set-cookie"]
    assert client.get("/api/0/users/me/").json()["email"] == account.email


def session_cookie(response: httpx.Response) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie


@pytest.fixture
def secure_cookie_server(database_urls: dict[str, str]) -> Iterator[LiveServer]:
    """A second server over the SQLite test database, with TOKENWARD_COOKIE_SECURE=true."""
    with running_server(database_urls["sqlite"], cookie_secure=True) as live:
        yield live


def test_the_cookie_is_secure_when_configured(secure_cookie_server: LiveServer) -> None:
    world = World(secure_cookie_server)
    try:
        account = world.user()
        response = world.anonymous().post(
            LOGIN, json={"email": account.email, "password": PASSWORD}
        )
        assert response.status_code == 200
        morsel = session_cookie(response)[COOKIE_NAME]
        assert morsel["secure"] is True
        assert morsel["httponly"] is True
    finally:
        world.close()


def test_login_email_is_case_and_space_insensitive(world: World) -> None:
    account = world.user()
    response = world.anonymous().post(
        LOGIN, json={"email": f"  {account.email.upper()} ", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text


def test_bad_password_and_unknown_email_get_the_same_401(world: World) -> None:
    account = world.user()
    client = world.anonymous()
    wrong = client.post(LOGIN, json={"email": account.email, "password": PASSWORD + "!"})
    unknown = client.post(LOGIN, json={"email": "nobody-" + account.email, "password": PASSWORD})
    assert_error(wrong, 401, "invalid-credentials")
    assert_error(unknown, 401, "invalid-credentials")
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers
    assert_error(client.get("/api/0/users/me/"), 401, "authentication-required")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["email", "password"]),
        ({"email": "a@example.com"}, ["password"]),
        ({"email": "a@example.com", "password": ""}, ["password"]),
        ({"email": "a@example.com", "password": "x", "remember": True}, ["remember"]),
        ({"email": 5, "password": "x"}, ["email"]),
    ],
)
def test_login_validation_is_400_with_fields(
    world: World, body: dict[str, object], fields: list[str]
) -> None:
    response = world.anonymous().post(LOGIN, json=body)
    assert sorted(error_fields(response)) == sorted(fields)


def test_unsafe_session_requests_need_the_csrf_token(world: World) -> None:
    session = world.session()
    csrf = session.http.headers.pop("X-CSRF-Token")
    body = {"name": "ci", "scopes": ["org:read"]}

    missing = session.post("/api/0/users/me/tokens/", json=body)
    assert_error(missing, 403, "csrf-failed")
    wrong = session.post(
        "/api/0/users/me/tokens/", json=body, headers={"X-CSRF-Token": csrf[:-2] + "xx"}
    )
    assert_error(wrong, 403, "csrf-failed")
    other = world.session()  # another session's token is no good either
    foreign = session.post(
        "/api/0/users/me/tokens/",
        json=body,
        headers={"X-CSRF-Token": other.http.headers["X-CSRF-Token"]},
    )
    assert_error(foreign, 403, "csrf-failed")
    for method, path in (
        ("PUT", "/api/0/organizations/whatever/"),
        ("DELETE", "/api/0/users/me/tokens/1/"),
    ):
        assert_error(session.request(method, path), 403, "csrf-failed")
    assert session.get("/api/0/users/me/tokens/").json() == []  # nothing was created

    # safe requests need none, and the right token works
    assert session.get("/api/0/users/me/").status_code == 200
    right = session.post("/api/0/users/me/tokens/", json=body, headers={"X-CSRF-Token": csrf})
    assert right.status_code == 201, right.text


def test_session_endpoint_returns_the_csrf_token_of_the_session(world: World) -> None:
    session = world.session()
    response = session.get("/api/0/auth/session/")
    assert response.status_code == 200
    assert response.json()["csrf_token"] == session.http.headers["X-CSRF-Token"]


def test_authorization_header_wins_over_cookies(world: World) -> None:
    session = world.session()
    other = world.session()
    other_token = world.personal_token(other, ["org:read"])
    me = other.get("/api/0/users/me/").json()

    # A valid token of another user: the request is that user's, whatever the cookie says.
    response = session.get("/api/0/users/me/", headers={"Authorization": f"Bearer {other_token}"})
    assert response.json() == me

    # A bad header is not rescued by a good cookie.
    garbage = session.get("/api/0/users/me/", headers={"Authorization": "Bearer nope"})
    assert_error(garbage, 401, "invalid-token")

    # A bearer request needs no CSRF token even when a session cookie rides along, and the
    # session-only rule sees the token, not the cookie.
    del session.http.headers["X-CSRF-Token"]
    unsafe = session.post(
        "/api/0/users/me/tokens/",
        json={"name": "x", "scopes": ["org:read"]},
        headers={"Authorization": f"Bearer {other_token}"},
    )
    assert_error(unsafe, 403, "session-required")


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer two tokens", "Basic dXNlcjpwYXNz", "Token abc", "bearer twp_short"]
)
def test_malformed_authorization_headers_are_invalid_tokens(world: World, header: str) -> None:
    response = world.client({"Authorization": header}).get("/api/0/users/me/")
    assert_error(response, 401, "invalid-token")


def test_logout_ends_the_session(world: World) -> None:
    session = world.session()
    cookie = session.http.cookies.get(COOKIE_NAME)
    assert cookie
    response = session.post("/api/0/auth/logout/")
    assert response.status_code == 204
    assert response.content == b""
    assert COOKIE_NAME in response.headers["set-cookie"]  # cleared
    assert_error(session.get("/api/0/users/me/"), 401, "authentication-required")

    # The old cookie, replayed, opens nothing.
    replay = world.client({"Cookie": f"{COOKIE_NAME}={cookie}"})
    assert_error(replay.get("/api/0/users/me/"), 401, "authentication-required")


def test_logout_needs_a_session_and_its_csrf_token(world: World) -> None:
    session = world.session()
    token = world.personal_token(session, ["org:read"])
    assert_error(world.bearer(token).post("/api/0/auth/logout/"), 403, "session-required")
    assert_error(world.anonymous().post("/api/0/auth/logout/"), 401, "authentication-required")
    csrf = session.http.headers.pop("X-CSRF-Token")
    assert_error(session.post("/api/0/auth/logout/"), 403, "csrf-failed")
    assert session.get("/api/0/users/me/").status_code == 200  # still signed in
    session.http.headers["X-CSRF-Token"] = csrf


def test_logout_ends_only_its_own_session(world: World) -> None:
    account = world.user()
    first, second = world.login(account), world.login(account)
    assert first.post("/api/0/auth/logout/").status_code == 204
    assert second.get("/api/0/users/me/").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/0/users/me/"),
        ("GET", "/api/0/users/me/tokens/"),
        ("POST", "/api/0/users/me/tokens/"),
        ("DELETE", "/api/0/users/me/tokens/1/"),
        ("GET", "/api/0/organizations/"),
        ("POST", "/api/0/organizations/"),
        ("GET", "/api/0/organizations/some-org/"),
        ("PUT", "/api/0/organizations/some-org/"),
        ("GET", "/api/0/organizations/some-org/members/"),
        ("GET", "/api/0/organizations/some-org/audit-logs/"),
        ("GET", "/api/0/projects/1/"),
        ("DELETE", "/api/0/projects/1/"),
        ("POST", "/api/0/auth/logout/"),
    ],
)
def test_no_credential_is_authentication_required(world: World, method: str, path: str) -> None:
    response = world.anonymous().request(method, path, json={"x": 1})
    assert_error(response, 401, "authentication-required")
