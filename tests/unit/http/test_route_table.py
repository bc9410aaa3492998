"""The route index answers exactly as FastAPI's walk would, and routes included flat keep every
option they were declared with."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import BaseRoute, Match
from starlette.testclient import TestClient

from tests.support import unstarted_app
from tokenward.http.route_table import RouteIndex, include_flat, install_route_index

APP = unstarted_app()
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PARAMETER = re.compile(r"\{([^}:]+)(?::([a-z]+))?\}")
_SAMPLE = {"int": "7", "path": "a/b/c", "uuid": "3b241101-e2bb-4255-8caf-4136c566a962"}


def _filled(path_format: str, value: str) -> str:
    return _PARAMETER.sub(lambda found: _SAMPLE.get(found.group(2) or "", value), path_format)


def _sample_paths() -> set[str]:
    paths = {"/", "", "//", "/api//0/users/me/", "/nowhere/at/all/", "/static/", "/STATIC/app.css"}
    for route in APP.router.routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        for value in ("acme", "12", "a-b_c"):
            filled = _filled(path, value)
            paths |= {filled, filled.rstrip("/"), filled + "/", filled + "/extra/", filled * 2}
            paths.add(filled.replace("/", "//", 1))
    return paths


def _scope(path: str, method: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _walked(routes: list[BaseRoute], scope: dict[str, object]) -> BaseRoute | None:
    for route in routes:
        if route.matches(scope)[0] is Match.FULL:
            return route
    return None


def test_the_index_picks_the_route_the_walk_picks_for_every_path() -> None:
    index = RouteIndex(APP.router, APP.router.app)
    routes = list(APP.router.routes)
    reached: set[int] = set()
    for method in METHODS:
        for path in sorted(_sample_paths()):
            scope = _scope(path, method)
            expected = _walked(routes, scope)
            assert _walked(index.candidates(path), scope) is expected, (method, path)
            if expected is not None:
                reached.add(id(expected))
    assert len(reached) == len(routes)  # the samples reach every route, not only misses


def test_the_application_keeps_its_routes_flat_behind_the_index() -> None:
    assert isinstance(APP.router.middleware_stack, RouteIndex)
    assert all(type(route).__name__ != "_IncludedRouter" for route in APP.router.routes)
    # The project list is told apart from every other route by its segments alone.
    candidates = RouteIndex(APP.router, APP.router.app).candidates(
        "/api/0/organizations/acme/projects/"
    )
    assert {getattr(route, "path", None) for route in candidates} == {
        "/api/0/organizations/{org}/projects/"  # its GET and its POST
    }


class Item(BaseModel):
    name: str


async def label() -> str:
    return "declared"


def _declared() -> APIRouter:
    router = APIRouter(prefix="/things", tags=["things"])

    @router.get(
        "/{thing_id}/",
        response_model=Item,
        responses={404: {"description": "No such thing"}},
        summary="Read a thing",
        openapi_extra={"x-kind": "thing"},
    )
    async def read(thing_id: int, name: Annotated[str, Depends(label)]) -> dict[str, str]:
        return {"name": f"{name} {thing_id}", "dropped": "not in Item"}

    @router.post("/", status_code=201, deprecated=True, include_in_schema=True)
    async def create() -> dict[str, str]:
        return {"name": "new"}

    @router.get("/hidden/", include_in_schema=False)
    async def hidden() -> dict[str, str]:
        return {"name": "hidden"}

    return router


def _indexed_app() -> FastAPI:
    app = FastAPI()
    include_flat(app, _declared())
    install_route_index(app)
    return app


def test_a_router_included_flat_documents_itself_as_if_included() -> None:
    nested = FastAPI()
    nested.include_router(_declared())
    assert _indexed_app().openapi()["paths"] == nested.openapi()["paths"]


def test_the_index_serves_parameters_models_and_overrides() -> None:
    app = _indexed_app()
    with TestClient(app) as client:
        read = client.get("/things/7/")
        assert read.status_code == 200
        assert read.json() == {"name": "declared 7"}  # response_model filtered the extra field
        assert (client.post("/things/")).status_code == 201
        # The application answers for overrides of flat-included routes, as for included ones.
        app.dependency_overrides[label] = lambda: "overridden"
        assert (client.get("/things/8/")).json() == {"name": "overridden 8"}


def test_misses_answer_as_the_walk_would() -> None:
    app = _indexed_app()
    with TestClient(app) as client:
        wrong_method = client.delete("/things/7/")
        assert wrong_method.status_code == 405
        assert wrong_method.headers["allow"] == "GET"
        unslashed = client.get("/things/7", follow_redirects=False)
        assert unslashed.status_code == 307
        assert unslashed.headers["location"].endswith("/things/7/")
        assert (client.get("/things/7/extra/")).status_code == 404
        assert (client.get("/elsewhere/")).status_code == 404


def test_a_route_added_after_the_index_is_found() -> None:
    app = _indexed_app()

    @app.get("/things/{thing_id}/late/")
    async def late(thing_id: int) -> dict[str, int]:
        return {"late": thing_id}

    with TestClient(app) as client:
        assert (client.get("/things/3/late/")).json() == {"late": 3}


class TaggedRoute(APIRoute):
    """A route class of its own, as the SCIM router has (its errors and media type)."""


def test_a_router_included_flat_keeps_its_route_class() -> None:
    router = APIRouter(route_class=TaggedRoute)

    @router.get("/tagged/")
    async def tagged() -> dict[str, str]:
        return {"name": "tagged"}

    app = FastAPI()
    include_flat(app, router)
    assert [
        type(route) for route in app.router.routes if getattr(route, "path", "") == "/tagged/"
    ] == [TaggedRoute]
