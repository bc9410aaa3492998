"""The order of checks on an organization's resource: authenticate (401) -> organization and
membership (404) -> scope, session, role (403) -> the token policy (403) -> the body (400).
Nobody learns anything from a body they were not allowed to send. Cast: 0 owns, 1 manager,
2 member, 3 outside."""

from __future__ import annotations

import httpx
import pytest

from tests.support import ApiClient, Cast, World, assert_error, error_fields

OWNER, MANAGER, MEMBER, OUTSIDER = 0, 1, 2, 3
MALFORMED = [b"{not json", b"[]", b'"text"', b'{"slug": 5, "name": [], "role": "emperor"}', b""]


def send(client: ApiClient, method: str, path: str, body: bytes) -> httpx.Response:
    return client.request(method, path, content=body, headers={"Content-Type": "application/json"})


@pytest.fixture
def slug(cast: Cast) -> str:
    slug = cast.organization()
    cast.join(slug, MANAGER, "manager")
    cast.join(slug, MEMBER, "member")
    return slug


def body_routes(slug: str, project_id: str, member_id: str) -> list[tuple[str, str]]:
    return [
        ("PUT", f"/api/0/organizations/{slug}/"),
        ("POST", f"/api/0/organizations/{slug}/members/"),
        ("PUT", f"/api/0/organizations/{slug}/members/{member_id}/"),
        ("POST", f"/api/0/organizations/{slug}/tokens/"),
        ("POST", f"/api/0/organizations/{slug}/projects/"),
        ("PUT", f"/api/0/projects/{project_id}/"),
    ]


def _targets(cast: Cast, slug: str) -> tuple[str, str]:
    project_id = cast.world.project(cast.session(OWNER), slug)
    member_id = next(
        item["id"]
        for item in cast.session(OWNER).get(f"/api/0/organizations/{slug}/members/").json()
        if item["role"] == "member"
    )
    return project_id, member_id


@pytest.mark.parametrize("body", MALFORMED)
def test_outsiders_get_404_whatever_the_body(
    cast: Cast, world: World, slug: str, body: bytes
) -> None:
    project_id, member_id = _targets(cast, slug)
    foreign = world.bearer(
        world.organization_token(cast.session(OUTSIDER), cast.organization(OUTSIDER))
    )
    for caller in (cast.session(OUTSIDER), cast.token(OUTSIDER), foreign):
        for method, path in body_routes(slug, project_id, member_id):
            assert_error(send(caller, method, path, body), 404, "not-found")


@pytest.mark.parametrize("body", MALFORMED)
def test_a_refused_member_gets_403_whatever_the_body(cast: Cast, slug: str, body: bytes) -> None:
    member = cast.session(MEMBER)
    url = f"/api/0/organizations/{slug}/"
    for method, path, required in (
        ("PUT", url, "org:write"),
        ("POST", f"{url}members/", "member:write"),
        ("POST", f"{url}tokens/", "org:write"),
    ):
        response = send(member, method, path, body)
        assert_error(response, 403, "insufficient-scope", {"required": required})


def test_no_credential_or_a_bad_one_is_401_before_anything(
    cast: Cast, world: World, slug: str
) -> None:
    for client, code in (
        (world.anonymous(), "authentication-required"),
        (world.bearer("twp_" + "0" * 49), "invalid-token"),
    ):
        for path in (f"/api/0/organizations/{slug}/", "/api/0/organizations/no-such-org/"):
            assert_error(send(client, "PUT", path, b"{not json"), 401, code)


def test_the_policy_comes_after_scope_session_and_role_and_before_the_body(
    cast: Cast, slug: str
) -> None:
    cast.session(OWNER).put(
        f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}}
    )
    url = f"/api/0/organizations/{slug}/"
    denied = {"organization": slug}
    owner_token = cast.token(OWNER)
    # Scope first: a token without the scope hears about the scope, not the policy.
    narrow = cast.token(OWNER, ["project:read"])
    assert_error(narrow.get(url), 403, "insufficient-scope", {"required": "org:read"})
    # The role limits the token before the policy is asked.
    member_token = cast.token(MEMBER)
    assert_error(
        member_token.put(url, json={"name": "x"}),
        403,
        "insufficient-scope",
        {"required": "org:write"},
    )
    # Session-only routes and settings say so first.
    assert_error(owner_token.get(f"{url}tokens/"), 403, "session-required")
    settings = {"settings": {"allow_personal_tokens": True}}
    assert_error(owner_token.put(url, json=settings), 403, "session-required")
    # Role before policy: a manager's token adding an owner is forbidden.
    manager_token = cast.token(MANAGER)
    add_owner = {"email": cast.account(OUTSIDER).email, "role": "owner"}
    assert_error(manager_token.post(f"{url}members/", json=add_owner), 403, "forbidden")
    # Then the policy, before any body.
    for body in MALFORMED:
        response = send(owner_token, "PUT", url, body)
        assert_error(response, 403, "personal-token-denied", denied)
        response = send(owner_token, "POST", f"{url}projects/", body)
        assert_error(response, 403, "personal-token-denied", denied)


def test_forbidden_comes_before_the_body(cast: Cast, slug: str) -> None:
    manager = cast.session(MANAGER)
    response = manager.post(
        f"/api/0/organizations/{slug}/members/", json={"role": "owner", "email": "not an email"}
    )
    assert_error(response, 403, "forbidden", {"required_role": "owner"})
    settings = manager.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": "yes"}}
    )
    assert_error(settings, 403, "forbidden", {"required_role": "owner"})


@pytest.mark.parametrize("body", MALFORMED)
def test_an_allowed_caller_gets_400_for_a_malformed_body_never_422(
    cast: Cast, slug: str, body: bytes
) -> None:
    project_id, member_id = _targets(cast, slug)
    owner = cast.session(OWNER)
    routes = [
        *body_routes(slug, project_id, member_id),
        ("POST", "/api/0/organizations/"),
        ("POST", "/api/0/users/me/tokens/"),
        ("POST", "/api/0/auth/login/"),
    ]
    for method, path in routes:
        response = send(owner, method, path, body)
        assert response.status_code == 400, (method, path, response.text)
        assert error_fields(response)


@pytest.mark.parametrize("query", ["per_page=0", "per_page=101", "per_page=x", "cursor=abc"])
def test_bad_queries_are_400_with_the_field_never_422(cast: Cast, slug: str, query: str) -> None:
    owner = cast.session(OWNER)
    field = query.split("=")[0]
    for path in (
        f"/api/0/organizations/{slug}/members/",
        f"/api/0/organizations/{slug}/projects/",
        f"/api/0/organizations/{slug}/tokens/",
        f"/api/0/organizations/{slug}/audit-logs/",
        "/api/0/users/me/tokens/",
    ):
        assert error_fields(owner.get(f"{path}?{query}")) == [field]
