"""``/forward-auth`` asked directly, as Envoy and Traefik do: how the original request is read,
and the resolver's cache, coalescing and failure."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.gateway.upstream import Upstream
from tests.support import World, unique
from tokenward.errors import ApiError
from tokenward.gateway.endpoint import refusal


def _ask(world: World, path: str = "/forward-auth", **headers: str) -> httpx.Response:
    return world.anonymous().get(path, headers=headers)


def test_envoy_sends_the_original_path_under_the_prefix(gateway_world: World) -> None:
    world = gateway_world
    owner = world.session("Owner")
    slug = world.organization(owner)
    token = world.personal_token(owner, ["project:read"])
    bearer = world.bearer(token)
    allowed = bearer.get(f"/forward-auth/orgs/{slug}/issues?page=2")
    assert allowed.status_code == 200, allowed.text
    assert allowed.content == b""
    assert allowed.headers["tokenward-organization"] == slug
    assert allowed.headers["tokenward-role"] == "owner"
    assert allowed.headers["cache-control"] == "no-store"
    # The sub-request's own method is the original one: a POST needs project:write.
    refused = bearer.post(f"/forward-auth/orgs/{slug}/issues")
    assert refused.status_code == 403, refused.text
    assert refused.headers["tokenward-error"] == "insufficient-scope"
    assert refused.json()["detail"]["extra"] == {"required": "project:write"}


def test_a_uri_without_its_method_is_refused(gateway_world: World) -> None:
    response = _ask(gateway_world, **{"X-Forwarded-Uri": "/health"})
    assert response.status_code == 400, response.text
    assert response.headers["tokenward-error"] == "invalid-request"
    assert (
        _ask(gateway_world, **{"X-Original-Method": "GET", "X-Original-Uri": "/health"}).status_code
        == 200
    )


def test_without_a_route_file_gateway_mode_is_off(world: World) -> None:
    response = world.anonymous().get(
        "/forward-auth", headers={"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/health"}
    )
    assert response.status_code == 404, response.text
    assert response.headers["tokenward-error"] == "not-found"
    assert "TOKENWARD_GATEWAY_ROUTES" in response.json()["detail"]["message"]


def test_a_burst_about_one_object_asks_the_resolver_once(
    gateway_world: World, upstream: Upstream
) -> None:
    world = gateway_world
    owner = world.session("Owner")
    slug = world.organization(owner)
    token = world.personal_token(owner, ["project:read"])
    issue_id = unique("issue")
    upstream.issues[issue_id] = slug
    headers = {"Authorization": f"Bearer {token}"}
    world.bearer(token).get(f"/forward-auth/orgs/{slug}/issues")  # warm the caller's caches
    before = upstream.resolver_calls
    upstream.resolver_delay = 0.5  # long enough for the burst to find the call under way
    try:
        with ThreadPoolExecutor(max_workers=12) as pool, httpx.Client(timeout=30) as http:
            answers = list(
                pool.map(
                    lambda _: http.get(
                        f"{world.server.url}/forward-auth/issues/{issue_id}", headers=headers
                    ),
                    range(12),
                )
            )
    finally:
        upstream.resolver_delay = 0.0
    assert [answer.status_code for answer in answers] == [200] * 12
    assert {answer.headers["tokenward-organization"] for answer in answers} == {slug}
    assert upstream.resolver_calls == before + 1
    # Cached for its TTL: later requests do not ask again.
    assert world.bearer(token).get(f"/forward-auth/issues/{issue_id}").status_code == 200
    assert upstream.resolver_calls == before + 1
    # An unknown object is asked about each time (it may be created a moment later).
    missing = unique("issue")
    assert world.bearer(token).get(f"/forward-auth/issues/{missing}").status_code == 404
    upstream.issues[missing] = slug
    assert world.bearer(token).get(f"/forward-auth/issues/{missing}").status_code == 200


def test_the_resolver_is_not_asked_for_callers_without_a_credential(
    gateway_world: World, upstream: Upstream
) -> None:
    before = upstream.resolver_calls
    response = gateway_world.anonymous().get(f"/forward-auth/issues/{unique('issue')}")
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert upstream.resolver_calls == before


def test_warm_checks_touch_no_store(gateway_world: World, upstream: Upstream) -> None:
    """As on the API's warm path: principal, organization, membership all come from caches."""
    world = gateway_world
    owner = world.session("Owner")
    slug = world.organization(owner)
    member = world.member(owner, slug)
    bearer = world.bearer(world.personal_token(member.session, ["project:read"]))
    issue_id = unique("issue")
    upstream.issues[issue_id] = slug
    paths = [f"/forward-auth/orgs/{slug}/issues", f"/forward-auth/issues/{issue_id}"]
    for _ in range(3):
        for path in paths:
            assert bearer.get(path).status_code == 200
    with world.server.app.state.store.statements() as seen:
        for _ in range(10):
            for path in paths:
                assert bearer.get(path).status_code == 200
    assert [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")] == []


def test_a_token_revoked_for_the_organization_is_refused_there_only(
    gateway_world: World,
) -> None:
    world = gateway_world
    owner = world.session("Owner")
    slug = world.organization(owner)
    member = world.member(owner, slug)
    other = world.organization(member.session)
    bearer = world.bearer(world.personal_token(member.session, ["project:read"]))
    allowed = bearer.get(f"/forward-auth/orgs/{slug}/issues")
    assert allowed.status_code == 200, allowed.text
    token_id = allowed.headers["tokenward-token-id"]
    revoked = owner.delete(f"/api/0/organizations/{slug}/personal-tokens/{token_id}/")
    assert revoked.status_code == 204, revoked.text
    refused = bearer.get(f"/forward-auth/orgs/{slug}/issues")
    assert refused.status_code == 403, refused.text
    assert refused.headers["tokenward-error"] == "personal-token-revoked"
    assert refused.json()["detail"]["extra"] == {"organization": slug}
    assert bearer.get(f"/forward-auth/orgs/{other}/issues").status_code == 200


def test_a_refusal_carries_its_own_headers_and_its_code() -> None:
    """Whatever a refusal adds (an SSO login URL, say) reaches the proxy untouched."""
    error = ApiError(403, "some-refusal", "Refused.", {"a": 1}, {"Tokenward-SSO": "https://x/"})
    answer = refusal(error)
    assert answer.status_code == 403
    assert answer.headers["tokenward-sso"] == "https://x/"
    assert answer.headers["tokenward-error"] == "some-refusal"
    assert answer.headers["cache-control"] == "no-store"
    assert "www-authenticate" not in answer.headers
    assert refusal(ApiError(401, "invalid-token", "No.")).headers["www-authenticate"] == "Bearer"
