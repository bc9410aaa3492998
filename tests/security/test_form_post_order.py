"""A page's form post is checked for CSRF by the route's access itself, so the order in which a
route declares its form and its access does not matter: declaring the access first once gave a
puzzling 403 to every post. Routes that take no form still need the header."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter

from tests.support import ApiClient, LiveServer, World, run_async
from tests.support import _migrate as migrate
from tokenward.auth.access import BrowserOrgWrite, BrowserUser
from tokenward.auth.form_csrf import PostedForm
from tokenward.config import Settings

router = APIRouter()


# The access is declared before the form: the order that used to be refused.
@router.post("/form-order/{org}/access-then-form/")
async def organization_access_then_form(context: BrowserOrgWrite, form: PostedForm) -> str:
    return f"{context.organization.slug}:{form.get('name')}"


@router.post("/form-order/me/")
async def user_access_then_form(principal: BrowserUser, form: PostedForm) -> str:
    return f"{principal.user_id}:{form.get('name')}"


@router.post("/form-order/{org}/no-form/")
async def no_form(context: BrowserOrgWrite) -> str:
    return context.organization.slug


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with tempfile.TemporaryDirectory(prefix="tokenward-form-order-") as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'test.db'}"
        run_async(migrate(url))
        server = LiveServer(Settings(database_url=url, secret_key="form-order-test-secret"))
        server.app.include_router(router)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def _browser(world: World) -> tuple[ApiClient, str, str]:
    """A signed-in owner posting forms as a browser does: no header, the token in a field."""
    owner = world.session()
    slug = world.organization(owner)
    csrf = owner.http.headers.pop("X-CSRF-Token")
    return owner, slug, csrf


def test_a_form_declared_after_the_access_is_accepted_with_its_field(server: LiveServer) -> None:
    world = World(server)
    try:
        owner, slug, csrf = _browser(world)
        for path, answer in (
            (f"/form-order/{slug}/access-then-form/", f"{slug}:Acme"),
            ("/form-order/me/", ":Acme"),
        ):
            response = owner.post(path, data={"csrf_token": csrf, "name": "Acme"})
            assert response.status_code == 200, response.text
            assert response.json().endswith(answer)
    finally:
        world.close()


def test_a_form_without_its_field_is_still_refused(server: LiveServer) -> None:
    world = World(server)
    try:
        owner, slug, csrf = _browser(world)
        for path in (f"/form-order/{slug}/access-then-form/", "/form-order/me/"):
            for data in ({"name": "Acme"}, {"csrf_token": csrf[:-1] + "x", "name": "Acme"}):
                response = owner.post(path, data=data)
                assert response.status_code == 403, response.text
    finally:
        world.close()


def test_a_route_that_takes_no_form_does_not_accept_the_field(server: LiveServer) -> None:
    world = World(server)
    try:
        owner, slug, csrf = _browser(world)
        response = owner.post(f"/form-order/{slug}/no-form/", data={"csrf_token": csrf})
        assert response.status_code == 403, response.text
        owner.http.headers["X-CSRF-Token"] = csrf
        assert owner.post(f"/form-order/{slug}/no-form/").json() == slug
    finally:
        world.close()
