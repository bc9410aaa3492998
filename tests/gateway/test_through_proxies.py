"""Gateway mode end to end, through Debian's nginx and Caddy configured as docs/gateway.md says:
the organization's rules reach an upstream API that knows nothing of tokens."""

from __future__ import annotations

from typing import Any

import httpx

from tests.gateway.conftest import through
from tests.gateway.proxies import Proxy
from tests.gateway.upstream import Upstream
from tests.support import ApiClient, World, unique

IDENTITY = {
    "tokenward-user-id",
    "tokenward-user-email",
    "tokenward-organization",
    "tokenward-organization-id",
    "tokenward-credential",
    "tokenward-token-id",
    "tokenward-role",
    "tokenward-scopes",
}


def passed(response: httpx.Response) -> dict[str, Any]:
    """What the upstream saw; fails unless the request reached it."""
    assert response.status_code == 200, response.text
    seen: dict[str, Any] = response.json()
    assert set(seen) == {"method", "path", "tokenward"}, seen
    return seen


def refused(response: httpx.Response, status: int, code: str) -> None:
    """Refused by Tokenward with ``code``, in the header and in the body; the upstream unasked."""
    assert response.status_code == status, response.text
    assert response.headers.get("tokenward-error") == code, response.headers
    assert response.json()["detail"]["code"] == code, response.text


def issue(upstream: Upstream, slug: str) -> str:
    issue_id = unique("issue")
    upstream.issues[issue_id] = slug
    return issue_id


def every_shape(client: ApiClient, slug: str, issue_id: str) -> list[httpx.Response]:
    """One request of each route shape: slug in the path (read, write, rest of the path) and an
    object whose organization the resolver names."""
    return [
        client.get(f"/orgs/{slug}/issues"),
        client.post(f"/orgs/{slug}/issues", json={"title": "x"}),
        client.get(f"/orgs/{slug}/files/docs/readme.md"),
        client.get(f"/issues/{issue_id}"),
    ]


def test_owner_denying_personal_tokens_is_obeyed_by_the_upstream(
    gateway_world: World, proxy: Proxy, upstream: Upstream
) -> None:
    world = gateway_world
    owner = world.session("Owner")
    slug = world.organization(owner)
    other = world.organization(owner)
    member = world.member(owner, slug)
    world.add_member(owner, other, member.account, "member")
    personal = through(world, proxy, world.bearer(world.personal_token(member.session)))
    organization = through(world, proxy, world.bearer(world.organization_token(owner, slug)))
    session = through(world, proxy, member.session)
    issue_id = issue(upstream, slug)

    for response in every_shape(personal, slug, issue_id):
        seen = passed(response)
        assert seen["tokenward"]["tokenward-credential"] == "personal-token"
        assert seen["tokenward"]["tokenward-organization"] == slug
    assert passed(personal.post(f"/orgs/{slug}/issues"))["method"] == "POST"

    denied = owner.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}}
    )
    assert denied.status_code == 200, denied.text

    for response in every_shape(personal, slug, issue_id):
        refused(response, 403, "personal-token-denied")
    # Only that organization said no: the same token still works in the member's other one.
    assert passed(personal.get(f"/orgs/{other}/issues"))["tokenward"]["tokenward-organization"] == (
        other
    )
    for response in every_shape(organization, slug, issue_id):
        assert passed(response)["tokenward"]["tokenward-credential"] == "organization-token"
    for response in every_shape(session, slug, issue_id):
        assert passed(response)["tokenward"]["tokenward-credential"] == "session"
    # A session changing something needs its CSRF token, as on the API.
    session.http.headers.pop("X-CSRF-Token")
    refused(session.post(f"/orgs/{slug}/issues"), 403, "csrf-failed")
    assert passed(session.get(f"/orgs/{slug}/issues"))["method"] == "GET"


def test_identity_arrives_and_forged_identity_never_does(
    gateway_world: World, proxy: Proxy, upstream: Upstream
) -> None:
    world = gateway_world
    owner = world.session("Owner")
    slug = world.organization(owner)
    member = world.member(owner, slug, "manager")
    token = world.personal_token(member.session, ["org:read", "project:read"])
    me = world.bearer(token).get("/api/0/users/me/").json()
    forged = {name: "forged" for name in IDENTITY} | {
        "Tokenward-User-Id": "1",
        "Tokenward-Report-Only": "forged",
        "Tokenward-Error": "forged",
        "Tokenward-SSO": "forged",
    }
    client = through(world, proxy, world.bearer(token))
    client.http.headers.update(forged)

    seen = passed(client.get(f"/orgs/{slug}/issues"))["tokenward"]
    assert set(seen) == IDENTITY, seen
    assert seen["tokenward-user-id"] == str(me["id"])
    assert seen["tokenward-user-email"] == member.account.email
    assert seen["tokenward-organization"] == slug
    assert seen["tokenward-organization-id"].isdigit()
    assert seen["tokenward-token-id"].isdigit()
    assert seen["tokenward-role"] == "manager"
    assert seen["tokenward-scopes"] == "org:read project:read"

    # A user route says who, and nothing about an organization.
    seen = passed(client.get("/me"))["tokenward"]
    assert seen["tokenward-user-id"] == str(me["id"])
    assert not {"tokenward-organization", "tokenward-role"} & set(seen), seen
    # A public route with no credential: nothing the client made up gets through.
    anonymous = through(world, proxy)
    anonymous.http.headers.update(forged)
    assert passed(anonymous.get("/health"))["tokenward"] == {}


def test_refusals_say_why(gateway_world: World, proxy: Proxy, upstream: Upstream) -> None:
    world = gateway_world
    owner = world.session("Owner")
    slug = world.organization(owner)
    member = world.member(owner, slug)
    reader = through(world, proxy, world.bearer(world.personal_token(member.session, ["org:read"])))
    anonymous = through(world, proxy)

    response = anonymous.get(f"/orgs/{slug}/issues")
    refused(response, 401, "authentication-required")
    assert response.headers["www-authenticate"].startswith("Bearer")
    # A client cannot name another request to be judged in place of its own.
    for method, uri in (
        ("X-Forwarded-Method", "X-Forwarded-Uri"),
        ("X-Original-Method", "X-Original-URI"),
    ):
        named = {method: "GET", uri: "/health"}
        refused(
            anonymous.get(f"/orgs/{slug}/issues", headers=named), 401, "authentication-required"
        )
    refused(through(world, proxy, world.bearer("twp_" + "x" * 49)).get("/me"), 401, "invalid-token")
    refused(reader.get(f"/orgs/{slug}/issues"), 403, "insufficient-scope")
    refused(reader.get(f"/orgs/{unique('nowhere')}/issues"), 404, "not-found")
    refused(reader.get(f"/issues/{unique('missing')}"), 404, "not-found")
    # No rule: refused, so the upstream's internal resolver is not reachable from outside.
    refused(reader.get(f"/internal/issues/{issue(upstream, slug)}/org"), 404, "not-found")
    # A path the upstream could read as another route is refused, never guessed at.
    refused(reader.get(f"/health/%2e%2e/orgs/{slug}/issues"), 400, "invalid-request")


def test_a_resolver_that_fails_closes_the_door(
    gateway_world: World, proxy: Proxy, upstream: Upstream
) -> None:
    world = gateway_world
    owner = through(world, proxy, world.session("Owner"))
    refused(owner.get(f"/broken/{unique('issue')}"), 503, "unavailable")


def test_report_mode_lets_through_and_says_so(
    gateway_world: World, proxy: Proxy, upstream: Upstream
) -> None:
    world = gateway_world
    owner = world.session("Owner")
    slug = world.organization(
        owner, allow_personal_tokens=False, personal_token_enforcement="report"
    )
    personal = through(world, proxy, world.bearer(world.personal_token(owner)))
    seen = passed(personal.get(f"/issues/{issue(upstream, slug)}"))["tokenward"]
    assert seen["tokenward-report-only"] == "personal-token-denied"
    assert seen["tokenward-role"] == "owner"
