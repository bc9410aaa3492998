"""The organization's personal-token switch on every organization route, walked from the route
inventory: a new organization API route without a recipe here fails the suite.

For each route, in a fresh organization, with fresh objects for every kind of caller: with the
switch off a personal token is denied (or told first that it needs a session, or a role), an
organization token and a session are not denied by the switch; outsiders get what a missing
organization gets, whatever the switch; with the switch on the personal token gets through.
Pages (outside ``/api/``) are for sessions only and answer in HTML; the same walk applies."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.sso.rows import WALK_SECRET, an_authorization, ensure_configuration, shared_provider
from tests.support import (
    ApiClient,
    Cast,
    LiveServer,
    UserAccount,
    World,
    assert_error,
    error_code,
    unique,
    unstarted_app,
)
from tokenward.auth.inventory import inventory

OWNER, OUTSIDER = 10, 11
POOL = range(20, 27)  # people added to the organization, at most one per kind of caller
SUCCESS = {"GET": 200, "POST": 201, "PUT": 200, "DELETE": 204}
PAGE_CODE = re.compile(
    r'class="error-code">Details for developers: HTTP \d+, code <code>([a-z0-9-]+)</code>'
)
PAGE_ERROR = re.compile(r'<section class="error-page".*?</section>', re.DOTALL)


def organization_routes(app: Any) -> list[tuple[str, str]]:
    # SCIM routes take the organization's own tokens only, whatever the switch, and answer in
    # SCIM's shape: tests/people/test_scim.py walks their refusals.
    return sorted(
        (method, route.path)
        for route in inventory(app)
        if route.access == ("organization",) and "/scim/v2" not in route.path
        for method in route.methods - {"HEAD"}
    )


ROUTES = organization_routes(unstarted_app())


def is_page(path: str) -> bool:
    return not path.startswith("/api/")


class Scene:
    """A fresh organization owned by OWNER, and fresh objects for calls into it."""

    def __init__(self, cast: Cast, world: World) -> None:
        self.cast = cast
        self.world = world
        self.owner = cast.session(OWNER)
        self.slug = cast.organization(OWNER)
        self.pool: Iterator[int] = iter(POOL)

    def _newcomer(self) -> tuple[int, UserAccount]:
        index = next(self.pool)
        return index, self.cast.account(index)

    def newcomer_email(self) -> str:
        return self._newcomer()[1].email

    def member_id(self) -> str:
        return self.world.add_member(self.owner, self.slug, self._newcomer()[1], "member")

    def members_personal_token_id(self) -> str:
        index, account = self._newcomer()
        self.world.add_member(self.owner, self.slug, account, "member")
        response = self.cast.session(index).post(
            "/api/0/users/me/tokens/", json={"name": unique("t"), "scopes": ["org:read"]}
        )
        assert response.status_code == 201, response.text
        token_id: str = response.json()["id"]
        return token_id

    def sso_configured(self) -> None:
        ensure_configuration(self.world.server.settings.database_url, self.slug)

    def authorization_id(self) -> str:
        index, account = self._newcomer()
        self.world.add_member(self.owner, self.slug, account, "member")
        session = self.cast.session(index)
        response = session.post(
            "/api/0/users/me/tokens/", json={"name": unique("t"), "scopes": ["org:read"]}
        )
        assert response.status_code == 201, response.text
        user_id = session.get("/api/0/users/me/").json()["id"]
        return an_authorization(
            self.world.server.settings.database_url, self.slug, response.json()["id"], user_id
        )

    def project_id(self) -> str:
        return self.world.project(self.owner, self.slug)

    def invitation_id(self) -> str:
        response = self.owner.post(
            f"/api/0/organizations/{self.slug}/members/",
            json={"email": f"{unique('invitee')}@example.com", "role": "member"},
        )
        assert response.status_code == 201, response.text
        invitation_id: str = response.json()["id"]
        return invitation_id

    def organization_token_id(self) -> str:
        response = self.owner.post(
            f"/api/0/organizations/{self.slug}/tokens/", json={"name": "t", "scopes": ["org:read"]}
        )
        assert response.status_code == 201, response.text
        token_id: str = response.json()["id"]
        return token_id

    def switch(self, *, allow: bool) -> None:
        response = self.owner.put(
            f"/api/0/organizations/{self.slug}/",
            json={"settings": {"allow_personal_tokens": allow}},
        )
        assert response.status_code == 200, response.text

    def organization_token(self) -> ApiClient:
        return self.world.bearer(self.world.organization_token(self.owner, self.slug))


Body = Callable[[Scene], dict[str, Any] | None]


def no_body(_: Scene) -> None:
    return None


@dataclass(frozen=True)
class Recipe:
    """How to call one API route, and what a caller with every scope hears from it."""

    body: Body = no_body
    session_only: bool = False
    # An organization token has no role: routes that need one refuse it with this code.
    organization_token_refusal: str | None = None
    token_id: Callable[[Scene], str] = Scene.organization_token_id
    success: int | None = None  # when not the method's usual (SUCCESS)


MANAGERS_ONLY = "forbidden"
RECIPES: dict[tuple[str, str], Recipe] = {
    ("GET", "/api/0/organizations/{org}/"): Recipe(),
    ("PUT", "/api/0/organizations/{org}/"): Recipe(lambda _: {"name": unique("Name")}),
    ("GET", "/api/0/organizations/{org}/members/"): Recipe(),
    ("POST", "/api/0/organizations/{org}/members/"): Recipe(
        lambda s: {"email": s.newcomer_email(), "role": "member"}
    ),
    ("PUT", "/api/0/organizations/{org}/members/{member_id}/"): Recipe(
        lambda _: {"role": "manager"}
    ),
    ("DELETE", "/api/0/organizations/{org}/members/{member_id}/"): Recipe(),
    ("GET", "/api/0/organizations/{org}/tokens/"): Recipe(session_only=True),
    ("POST", "/api/0/organizations/{org}/tokens/"): Recipe(
        lambda _: {"name": unique("t"), "scopes": ["org:read"]}, session_only=True
    ),
    ("DELETE", "/api/0/organizations/{org}/tokens/{token_id}/"): Recipe(session_only=True),
    ("GET", "/api/0/organizations/{org}/personal-tokens/"): Recipe(
        organization_token_refusal=MANAGERS_ONLY
    ),
    ("DELETE", "/api/0/organizations/{org}/personal-tokens/{token_id}/"): Recipe(
        session_only=True, token_id=Scene.members_personal_token_id
    ),
    ("GET", "/api/0/organizations/{org}/personal-token-usage/"): Recipe(
        organization_token_refusal=MANAGERS_ONLY
    ),
    ("GET", "/api/0/organizations/{org}/projects/"): Recipe(),
    ("POST", "/api/0/organizations/{org}/projects/"): Recipe(
        lambda _: {"slug": unique("p"), "name": "P"}
    ),
    ("GET", "/api/0/projects/{project_id}/"): Recipe(),
    ("PUT", "/api/0/projects/{project_id}/"): Recipe(lambda _: {"name": unique("Renamed")}),
    ("DELETE", "/api/0/projects/{project_id}/"): Recipe(),
    ("GET", "/api/0/organizations/{org}/audit-logs/"): Recipe(),
    ("GET", "/api/0/organizations/{org}/invitations/"): Recipe(),
    ("DELETE", "/api/0/organizations/{org}/invitations/{invitation_id}/"): Recipe(),
    ("POST", "/api/0/organizations/{org}/invitations/{invitation_id}/resend/"): Recipe(success=200),
    ("GET", "/api/0/organizations/{org}/sso/"): Recipe(
        lambda s: s.sso_configured(), session_only=True
    ),
    ("PUT", "/api/0/organizations/{org}/sso/"): Recipe(
        lambda _: {
            "issuer": shared_provider().issuer,
            "client_id": "tokenward",
            "client_secret": WALK_SECRET,
        },
        session_only=True,
    ),
    ("DELETE", "/api/0/organizations/{org}/sso/"): Recipe(
        lambda s: s.sso_configured(), session_only=True
    ),
    ("GET", "/api/0/organizations/{org}/sso/require-preview/"): Recipe(session_only=True),
    ("GET", "/api/0/organizations/{org}/credential-authorizations/"): Recipe(session_only=True),
    ("DELETE", "/api/0/organizations/{org}/credential-authorizations/{authorization_id}/"): Recipe(
        session_only=True
    ),
}
# Pages take forms the page tests know about; here they need only a session to get past the gate.
PAGE = Recipe(session_only=True)
# A page about members' personal tokens names one of them, not an organization token.
PERSONAL_TOKEN_PAGE = Recipe(session_only=True, token_id=Scene.members_personal_token_id)


def recipe_for(method: str, template: str) -> Recipe:
    if is_page(template):
        return PERSONAL_TOKEN_PAGE if "/personal-tokens/" in template else PAGE
    recipe = RECIPES.get((method, template))
    if recipe is None:
        pytest.fail(f"add a recipe for {method} {template} to {__name__}")
    return recipe


@dataclass
class Call:
    """One concrete call: the route's path filled with freshly made objects, and a body."""

    method: str
    path: str
    body: dict[str, Any] | None

    @classmethod
    def fresh(cls, scene: Scene, method: str, template: str) -> Call:
        recipe = recipe_for(method, template)
        makers: dict[str, Callable[[], str]] = {
            "{org}": lambda: scene.slug,
            "{member_id}": scene.member_id,
            "{project_id}": scene.project_id,
            "{invitation_id}": scene.invitation_id,
            "{token_id}": lambda: recipe.token_id(scene),
            "{authorization_id}": scene.authorization_id,
        }
        path = template
        for placeholder, make in makers.items():
            if placeholder in path:
                path = path.replace(placeholder, make())
        assert "{" not in path, f"no recipe for a path parameter of {template}"
        return cls(method, path, recipe.body(scene))

    def by(self, client: ApiClient) -> httpx.Response:
        return client.request(self.method, self.path, json=self.body)


def outcome(response: httpx.Response) -> tuple[int, str | None]:
    """The status and error code, from the API's JSON or an error page's HTML."""
    if is_page(response.request.url.path):
        found = PAGE_CODE.search(response.text)
        return response.status_code, found.group(1) if found else None
    return response.status_code, error_code(response)


def learned(response: httpx.Response) -> str:
    """What an error tells the caller: the JSON body, or the error section of a page."""
    if is_page(response.request.url.path):
        found = PAGE_ERROR.search(response.text)
        assert found, response.text
        return found.group(0)
    assert_error(response, response.status_code, error_code(response) or "")
    return response.text


def test_the_routes_walked_here_are_the_live_applications(server: LiveServer) -> None:
    assert organization_routes(server.app) == ROUTES
    assert len([route for route in ROUTES if not is_page(route[1])]) >= 15


def test_every_organization_api_route_has_a_recipe() -> None:
    missing = sorted(route for route in ROUTES if not is_page(route[1]) and route not in RECIPES)
    assert not missing, f"organization routes without a recipe in this test: {missing}"


@pytest.fixture(scope="module")
def outsiders(cast: Cast) -> list[ApiClient]:
    """A session, a personal token and an organization token of someone who is not a member."""
    foreign_org = cast.organization(OUTSIDER)
    foreign_token = cast.world.organization_token(cast.session(OUTSIDER), foreign_org)
    return [cast.session(OUTSIDER), cast.token(OUTSIDER), cast.world.bearer(foreign_token)]


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_the_switch_on_every_organization_route(
    cast: Cast, world: World, outsiders: list[ApiClient], method: str, template: str
) -> None:
    recipe = recipe_for(method, template)
    scene = Scene(cast, world)
    page = is_page(template)
    personal = cast.token(OWNER)  # every scope and the owner's role: only the policy can refuse
    org_token = scene.organization_token()
    missing = unique("missing")
    missing_path = f"/settings/{missing}/" if page else f"/api/0/organizations/{missing}/"
    missing_answers = [learned(client.get(missing_path)) for client in outsiders]

    def admitted(response: httpx.Response, who: str) -> None:
        if page:  # a form without fields may be refused by the page, never by the gate
            assert response.status_code < 500, (who, response.text)
            assert response.status_code not in (401, 403, 404), (who, response.text)
        else:
            expected = recipe.success or SUCCESS[method]
            assert response.status_code == expected, (who, response.text)

    def outsiders_learn_nothing() -> None:
        call = Call.fresh(scene, method, template)
        for client, reference in zip(outsiders, missing_answers, strict=True):
            response = call.by(client)
            assert outcome(response) == (404, "not-found"), response.text
            assert learned(response) == reference

    def personal_token_hears(*, allow: bool) -> None:
        response = Call.fresh(scene, method, template).by(personal)
        if recipe.session_only:
            assert outcome(response) == (403, "session-required"), response.text
        elif not allow:
            assert outcome(response) == (403, "personal-token-denied"), response.text
            assert response.json()["detail"]["extra"] == {"organization": scene.slug}
        else:
            admitted(response, "personal token, switch on")

    scene.switch(allow=False)
    personal_token_hears(allow=False)
    by_org_token = Call.fresh(scene, method, template).by(org_token)
    if recipe.session_only:
        assert outcome(by_org_token) == (403, "session-required"), by_org_token.text
    elif recipe.organization_token_refusal is not None:
        assert outcome(by_org_token) == (403, recipe.organization_token_refusal)
    else:
        admitted(by_org_token, "organization token")
    admitted(Call.fresh(scene, method, template).by(scene.owner), "owner session")
    outsiders_learn_nothing()

    scene.switch(allow=True)
    personal_token_hears(allow=True)
    outsiders_learn_nothing()


def test_every_role_s_personal_token_is_denied_and_every_session_is_not(
    cast: Cast, world: World
) -> None:
    scene = Scene(cast, world)
    people = list(POOL)[:3]
    for index, role in zip(people, ("member", "manager", "owner"), strict=True):
        world.add_member(scene.owner, scene.slug, cast.account(index), role)
    scene.switch(allow=False)
    url = f"/api/0/organizations/{scene.slug}/"
    for index in people:
        denied = cast.token(index, ["org:read"]).get(url)
        assert_error(denied, 403, "personal-token-denied", {"organization": scene.slug})
        assert cast.session(index).get(url).status_code == 200
