"""``/healthz`` asks the store; ``/openapi.json`` documents every API route and its coded errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import LiveServer, World, assert_error
from tokenward import credentials
from tokenward.auth.inventory import inventory
from tokenward.config import Settings

BODIES = {
    ("post", "/api/0/auth/login/"),
    ("post", "/api/0/users/me/tokens/"),
    ("post", "/api/0/organizations/"),
    ("put", "/api/0/organizations/{org}/"),
    ("post", "/api/0/organizations/{org}/members/"),
    ("put", "/api/0/organizations/{org}/members/{member_id}/"),
    ("post", "/api/0/organizations/{org}/tokens/"),
    ("post", "/api/0/organizations/{org}/projects/"),
    ("put", "/api/0/projects/{project_id}/"),
}
PAGED = {
    ("get", "/api/0/users/me/tokens/"),
    ("get", "/api/0/organizations/{org}/members/"),
    ("get", "/api/0/organizations/{org}/tokens/"),
    ("get", "/api/0/organizations/{org}/projects/"),
    ("get", "/api/0/organizations/{org}/audit-logs/"),
}
CONFLICTS = {
    ("post", "/api/0/organizations/"),
    ("post", "/api/0/organizations/{org}/members/"),
    ("put", "/api/0/organizations/{org}/members/{member_id}/"),
    ("delete", "/api/0/organizations/{org}/members/{member_id}/"),
    ("post", "/api/0/organizations/{org}/projects/"),
}
CREATED = {(method, path) for method, path in BODIES if method == "post"} - {
    ("post", "/api/0/auth/login/")
}


def test_healthz_answers_ok_whoever_asks(world: World) -> None:
    for client in (world.anonymous(), world.bearer("twp_" + "x" * 49)):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


@pytest.fixture
def storeless_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server whose SQLite file lies in a directory that does not exist."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'nowhere.db'}"
    live = LiveServer(Settings(database_url=url, secret_key=uuid.uuid4().hex)).start()
    yield live
    live.stop()


def test_without_a_store_nothing_is_allowed_on_a_guess(storeless_server: LiveServer) -> None:
    world = World(storeless_server)
    try:
        assert_error(world.anonymous().get("/healthz"), 503, "unavailable")
        login = world.anonymous().post(
            "/api/0/auth/login/", json={"email": "a@example.com", "password": "whatever-it-is"}
        )
        assert_error(login, 503, "unavailable")
        well_formed = credentials.mint(credentials.TokenKind.PERSONAL).secret
        unknown = world.bearer(well_formed).get("/api/0/organizations/")
        assert_error(unknown, 503, "unavailable")
        # A bad checksum is refused without asking the store, so even now it is a plain 401.
        tampered = well_formed[:-1] + ("0" if well_formed[-1] != "0" else "1")
        assert_error(world.bearer(tampered).get("/api/0/organizations/"), 401, "invalid-token")
    finally:
        world.close()


@pytest.fixture(scope="module")
def schema(server: LiveServer) -> dict[str, Any]:
    response = World(server).anonymous().get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def test_the_schema_lists_every_api_route(server: LiveServer, schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    documented = set(operations(schema))
    for route in inventory(server.app):
        if "/scim/v2" in route.path:
            continue  # SCIM publishes its own description (its Schemas and ResourceTypes)
        if route.path.startswith("/api/") or route.path == "/healthz":
            for method in route.methods - {"HEAD"}:
                assert (method.lower(), route.path) in documented, (method, route.path)


def test_every_operation_documents_its_errors_and_never_422(
    server: LiveServer, schema: dict[str, Any]
) -> None:
    access = {
        (method.lower(), route.path): route.access[0]
        for route in inventory(server.app)
        for method in route.methods
    }
    for key, operation in operations(schema).items():
        responses = operation["responses"]
        codes = {int(code) for code in responses}
        assert 422 not in codes, key
        assert 503 in codes, key
        for code in codes - {200, 201, 204}:
            content = responses[str(code)]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/ErrorOut"}, key
            assert responses[str(code)]["description"], key
        kind = access[key]
        if kind != "public":
            assert {401, 403} <= codes, key
        if kind == "organization":
            assert 404 in codes, key
        if key in BODIES:
            assert 400 in codes, key
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert body["$ref"].startswith("#/components/schemas/"), key
        if key in PAGED:
            assert 400 in codes, key
        if key in CONFLICTS:
            assert 409 in codes, key
    login = operations(schema)[("post", "/api/0/auth/login/")]["responses"]
    assert "401" in login


def test_success_statuses_follow_the_contract(schema: dict[str, Any]) -> None:
    for (method, path), operation in operations(schema).items():
        if not path.startswith("/api/"):
            continue
        success = {code for code in operation["responses"] if code.startswith("2")}
        if method == "delete" or path == "/api/0/auth/logout/":
            assert success == {"204"}, (method, path)
        elif (method, path) in CREATED:
            assert success == {"201"}, (method, path)


def test_the_error_shape_is_described_once(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components
    assert "ValidationError" not in components
    detail = components["ErrorOut"]["properties"]["detail"]
    detail_schema = components[detail["$ref"].rsplit("/", 1)[1]]
    assert set(detail_schema["properties"]) == {"code", "message", "extra"}
    for model in ("LoginRequest", "OrganizationCreate", "MemberCreate", "ProjectCreate"):
        assert model in components
