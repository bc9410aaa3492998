"""Every route declares its access, and the organization's routes are guarded by the gate: a new
endpoint cannot forget the check, and the application refuses to start if one does."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, Depends, FastAPI

from tests.support import unstarted_app
from tokenward import app as app_module
from tokenward.auth.access import organization_access, project_access, public, user_level
from tokenward.auth.inventory import inventory, undeclared_routes
from tokenward.config import Settings

APP = unstarted_app()
ROUTES = inventory(APP)
ORGANIZATION_PARAMETERS = re.compile(r"\{(org|project_id)\}")
# Names an organization yet must work for anyone: starting its SSO sign-in reads no
# organization data but its identity provider's address.
# Public by design: SSO sign-in starts by organization slug; gateway mode's path is the proxied
# request it judges, through the gate; an invitation link's key is its own credential, also
# for continuing through the organization's SSO.
PUBLIC_BY_DESIGN = frozenset(
    {
        "/auth/login/{org}/",
        "/forward-auth/{path:path}",
        "/accept-invite/{key}/",
        "/accept-invite/{key}/sso/",
    }
)


def test_the_inventory_sees_every_route_of_the_application() -> None:
    paths = {route.path for route in ROUTES}
    for expected in (
        "/healthz",
        "/openapi.json",
        "/api/0/auth/login/",
        "/api/0/users/me/",
        "/api/0/organizations/{org}/members/{member_id}/",
        "/api/0/projects/{project_id}/",
        "/api/0/organizations/{org}/audit-logs/",
    ):
        assert expected in paths
    api = [route for route in ROUTES if route.path.startswith("/api/")]
    assert len(api) >= 25


def test_every_route_declares_exactly_one_access() -> None:
    assert undeclared_routes(APP) == []
    for route in ROUTES:
        assert len(route.access) == 1, route
        assert route.access[0] in ("public", "user", "organization"), route


def test_routes_about_an_organization_pass_the_gate() -> None:
    unguarded = [
        route
        for route in ROUTES
        if ORGANIZATION_PARAMETERS.search(route.path)
        and route.access != ("organization",)
        and route.path not in PUBLIC_BY_DESIGN
    ]
    assert unguarded == []
    assert any(route.access == ("organization",) for route in ROUTES)


def test_organization_api_routes_are_all_guarded() -> None:
    for route in ROUTES:
        if route.path.startswith(("/api/0/organizations/{", "/api/0/projects/")):
            assert route.access == ("organization",), route


def test_public_routes_take_no_parameters() -> None:
    public_routes = [route for route in ROUTES if route.access == ("public",)]
    assert {"/healthz", "/openapi.json", "/api/0/auth/login/"} <= {r.path for r in public_routes}
    assert [
        route.path
        for route in public_routes
        if "{" in route.path and route.path not in PUBLIC_BY_DESIGN
    ] == []


def _app_with(*routers: APIRouter) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    for router in routers:
        app.include_router(router)
    return app


def test_a_route_without_a_declaration_is_reported() -> None:
    router = APIRouter()

    @router.get("/declared/")
    async def declared(_: None = public()) -> None:
        return None

    @router.get("/forgotten/{org}/")
    async def forgotten(org: str) -> str:
        return org

    @router.get("/twice/")
    async def twice(_: None = public(), __: object = user_level()) -> None:
        return None

    assert undeclared_routes(_app_with(router)) == ["/forgotten/{org}/", "/twice/"]


def test_declarations_count_in_route_and_nested_dependencies() -> None:
    router = APIRouter()

    @router.get("/listed/", dependencies=[public()])
    async def listed() -> None:
        return None

    async def helper(context: object = organization_access("org:read")) -> object:
        return context

    @router.get("/nested/{org}/")
    async def nested(context: object = Depends(helper)) -> None:
        return None

    @router.get("/project/{project_id}/")
    async def by_project(context: object = project_access("project:read")) -> None:
        return None

    routes = {route.path: route.access for route in inventory(_app_with(router))}
    assert routes["/listed/"] == ("public",)
    assert routes["/nested/{org}/"] == ("organization",)
    assert routes["/project/{project_id}/"] == ("organization",)
    assert undeclared_routes(_app_with(router)) == []


def test_create_app_refuses_an_undeclared_route(monkeypatch: pytest.MonkeyPatch) -> None:
    sneaky = APIRouter()

    @sneaky.get("/api/0/organizations/{org}/secrets/")
    async def secrets(org: str) -> str:
        return org

    monkeypatch.setattr(app_module, "API_ROUTERS", (*app_module.API_ROUTERS, sneaky))
    settings = Settings(database_url="sqlite+aiosqlite:///unused.db", secret_key="-")
    with pytest.raises(RuntimeError, match=re.escape("/api/0/organizations/{org}/secrets/")):
        app_module.create_app(settings)
