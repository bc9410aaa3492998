"""A request whose credential and organization no cache holds is read from the store in a couple
of statements (the credential with its user and SSO organizations; the organization with the
caller's role and the token's cut-off there). It answers exactly as the warm path does.

Each check empties the server's caches first, and rows are changed behind the server's back (no
change notification), so only what a cold lookup reads can explain the answer.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

import httpx
from sqlalchemy import Update, insert, literal, select, update
from sqlalchemy.sql import Executable

from tests.fastpath.conftest import on_server_loop
from tests.sso.rows import an_authorization
from tests.support import ApiClient, LiveServer, World, assert_error, run_async
from tokenward.store.engine import Store
from tokenward.store.tables import (
    LoginSession,
    Organization,
    OrganizationToken,
    PersonalToken,
    SsoSessionSignIn,
    UTCDateTime,
    utcnow,
)


def _forget(server: LiveServer) -> None:
    """Empty the server's caches: its next request reads everything from the store."""

    async def flush() -> None:
        server.app.state.caches.flush()

    on_server_loop(server, flush)


def _behind_the_back(server: LiveServer, statement: Executable) -> None:
    async def run() -> None:
        store = Store(server.settings.database_url)
        try:
            async with store.session() as db:
                await db.execute(statement)
                await db.commit()
        finally:
            await store.close()

    run_async(run())


def _cold(server: LiveServer, client: ApiClient, path: str) -> httpx.Response:
    _forget(server)
    return client.get(path)


def _token_id(session: ApiClient, secret: str) -> int:
    listed = session.get("/api/0/users/me/tokens/").json()
    return int(next(t["id"] for t in listed if t["token_last_characters"] == secret[-4:]))


def _ids(owner: ApiClient, *slugs: str) -> list[int]:
    return [int(owner.get(f"/api/0/organizations/{slug}/").json()["id"]) for slug in slugs]


def _user_id(session: ApiClient) -> int:
    return int(session.get("/api/0/users/me/").json()["id"])


def _past() -> dt.datetime:
    return utcnow() - dt.timedelta(minutes=1)


def test_revoked_and_expired_credentials_are_refused_cold(world: World) -> None:
    server = world.server
    owner = world.session()
    slug = world.organization(owner)
    path = f"/api/0/organizations/{slug}/"
    expiring, revoked = (world.personal_token(owner, ["org:read"]) for _ in range(2))
    org_expiring, org_revoked = (world.organization_token(owner, slug, ["org:read"]) for _ in "ab")
    session = world.session()
    for secret in (expiring, revoked, org_expiring, org_revoked):
        assert _cold(server, world.bearer(secret), path).status_code == 200
    assert _cold(server, session, "/api/0/users/me/").status_code == 200

    (organization_id,) = _ids(owner, slug)

    def organization_token(secret: str) -> Update:
        return update(OrganizationToken).where(
            OrganizationToken.organization_id == organization_id,
            OrganizationToken.token_last_characters == secret[-4:],
        )

    def personal_token(secret: str) -> Update:
        return update(PersonalToken).where(PersonalToken.id == _token_id(owner, secret))

    for statement in (
        personal_token(expiring).values(expires_at=_past()),
        personal_token(revoked).values(revoked_at=utcnow()),
        organization_token(org_expiring).values(expires_at=_past()),
        organization_token(org_revoked).values(revoked_at=utcnow()),
        update(LoginSession)
        .where(LoginSession.user_id == _user_id(session))
        .values(expires_at=_past()),
    ):
        _behind_the_back(server, statement)

    for secret in (expiring, org_expiring):
        assert_error(_cold(server, world.bearer(secret), path), 401, "token-expired")
    for secret in (revoked, org_revoked):
        assert_error(_cold(server, world.bearer(secret), path), 401, "invalid-token")
    assert_error(_cold(server, session, "/api/0/users/me/"), 401, "authentication-required")


def test_a_token_cut_off_is_refused_cold_whatever_the_caches_still_hold(world: World) -> None:
    """The cut-off is read with the organization, with the role, or on its own, depending on
    what the caches hold; each way refuses it, there only."""
    server = world.server
    owner = world.session()
    slug = world.organization(owner)
    project = world.project(owner, slug)
    member = world.member(owner, slug)
    other = world.organization(member.session)
    secret = world.personal_token(member.session, ["org:read", "project:read"])
    token = world.bearer(secret)
    path = f"/api/0/organizations/{slug}/"
    cut = f"/api/0/organizations/{slug}/personal-tokens/{_token_id(member.session, secret)}/"
    assert owner.delete(cut).status_code == 204

    # Nothing cached: organization, role and cut-off in one read.
    assert_error(_cold(server, token, path), 403, "personal-token-revoked")
    # The organization cached (by the owner's request), not the member's role.
    _forget(server)
    assert owner.get(path).status_code == 200
    assert_error(token.get(path), 403, "personal-token-revoked")
    # Organization and role cached (by the member's session), not the token's cut-off.
    _forget(server)
    assert member.session.get(path).status_code == 200
    assert_error(token.get(path), 403, "personal-token-revoked")
    # Through a project: its organization is read in the request's own transaction.
    assert_error(_cold(server, token, f"/api/0/projects/{project}/"), 403, "personal-token-revoked")
    assert _cold(server, token, f"/api/0/organizations/{other}/").status_code == 200
    assert token.get(path).status_code == 403  # and warm, the same


def test_a_cold_lookup_reads_every_organization_a_credential_passed_sso_in(
    world: World,
) -> None:
    """One statement reads the credential with its SSO organizations, a row each: none is lost."""
    server = world.server
    owner = world.session()
    slugs = [world.organization(owner) for _ in range(3)]
    member = world.member(owner, slugs[0])
    for slug in slugs[1:]:
        world.add_member(owner, slug, member.account, "member")
    secret = world.personal_token(member.session, ["org:read"])
    token = world.bearer(secret)
    token_id, user_id = _token_id(member.session, secret), _user_id(member.session)
    ids = _ids(owner, *slugs)
    for slug in slugs[:2]:
        an_authorization(server.settings.database_url, slug, str(token_id), str(user_id))
    for organization_id in ids[:2]:
        signed_in = select(
            LoginSession.id, literal(organization_id), literal(utcnow(), UTCDateTime())
        ).where(LoginSession.user_id == user_id)
        columns = ["login_session_id", "organization_id", "created_at"]
        _behind_the_back(server, insert(SsoSessionSignIn).from_select(columns, signed_in))
    _behind_the_back(
        server, update(Organization).where(Organization.id.in_(ids)).values(require_sso=True)
    )

    for client in (token, member.session):
        for slug in slugs[:2]:
            assert _cold(server, client, f"/api/0/organizations/{slug}/").status_code == 200
    last = f"/api/0/organizations/{slugs[2]}/"
    assert_error(_cold(server, token, last), 403, "personal-token-sso-unauthorized")
    assert_error(_cold(server, member.session, last), 401, "sso-required")


def _selects_of_one_request(server: LiveServer, request: Callable[[], httpx.Response]) -> list[str]:
    """The SELECTs the server runs while answering ``request``, caches emptied first."""
    _forget(server)
    watch = server.app.state.store.statements()
    seen = watch.__enter__()
    try:
        response = request()
    finally:
        watch.__exit__(None, None, None)
    assert response.status_code < 500, response.text
    return [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]


def test_a_read_that_misses_every_cache_reads_token_and_organization_in_one_statement(
    world: World,
) -> None:
    """The personal token, and the organization the path names with the token's standing there:
    one statement, and nothing more read by the gate; the answers are the warm path's."""
    server = world.server
    owner = world.session()
    slug = world.organization(owner)
    outsider = world.session()
    member_token = world.bearer(world.personal_token(owner, ["org:read"]))
    outsider_token = world.bearer(world.personal_token(outsider, ["org:read"]))
    path = f"/api/0/organizations/{slug}/"

    for token in (member_token, outsider_token):
        selects = _selects_of_one_request(server, functools.partial(token.get, path))
        assert len(selects) == 1, selects
        assert "personal_tokens.token_hash" in selects[0], selects
        assert "organizations.slug" in selects[0], selects
        cold = _cold(server, token, path)
        assert (cold.status_code, cold.json()) == (
            token.get(path).status_code,
            token.get(path).json(),
        )
    assert _cold(server, member_token, path).status_code == 200
    assert _cold(server, outsider_token, path).status_code in (403, 404)


def test_the_project_list_reads_once_warm_and_twice_cold(world: World) -> None:
    """Warm, its own statement alone; cold, the token and organization's one before it."""
    server = world.server
    owner = world.session()
    slug = world.organization(owner)
    world.project(owner, slug)
    token = world.bearer(world.personal_token(owner, ["project:read"]))
    path = f"/api/0/organizations/{slug}/projects/"
    cold = _selects_of_one_request(server, functools.partial(token.get, path))
    assert len(cold) == 2, cold
    watch = server.app.state.store.statements()
    seen = watch.__enter__()
    try:
        assert len(token.get(path).json()) == 1
    finally:
        watch.__exit__(None, None, None)
    selects = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and "projects" in selects[0], seen


def test_an_organization_token_and_a_slug_that_cannot_exist_are_read_as_before(
    world: World,
) -> None:
    server = world.server
    owner = world.session()
    slug = world.organization(owner)
    organization_token = world.bearer(world.organization_token(owner, slug, ["org:read"]))
    personal_token = world.bearer(world.personal_token(owner, ["org:read"]))
    path = f"/api/0/organizations/{slug}/"
    selects = _selects_of_one_request(server, functools.partial(organization_token.get, path))
    assert len(selects) == 2, selects
    assert not any("personal_tokens.token_hash" in sql for sql in selects), selects
    for odd in ("NUL%00", "UPPER", "x" * 300):
        response = _cold(server, personal_token, f"/api/0/organizations/{odd}/")
        assert response.status_code == 404, response.text


def test_a_change_reads_the_organization_in_its_own_session(world: World) -> None:
    server = world.server
    owner = world.session()
    slug = world.organization(owner)
    token = world.bearer(world.personal_token(owner, ["org:read", "org:write"]))
    path = f"/api/0/organizations/{slug}/"
    body = {"name": "Renamed"}
    selects = _selects_of_one_request(server, lambda: token.put(path, json=body))
    assert not any(
        "personal_tokens.token_hash" in sql and "organizations" in sql for sql in selects
    )
    assert token.get(path).json()["name"] == "Renamed"
