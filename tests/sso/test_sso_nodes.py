"""Two server processes over one PostgreSQL: requiring SSO, authorizing a personal token, revoking
the authorization and a session's SSO sign-in, all made on one node, reach the other through the
change notifications (the caches' TTL is an hour here, so nothing else could explain it)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.fastpath.conftest import (  # noqa: F401 (fixtures)
    node_a,
    node_b,
    postgres_url,
    secret,
)
from tests.sso.conftest import configure
from tests.sso.provider import IdentityProvider, csrf_of, sign_in
from tests.support import LiveServer, World, error_code


@pytest.fixture
def worlds(node_a: LiveServer, node_b: LiveServer) -> Iterator[tuple[World, World]]:  # noqa: F811
    a, b = World(node_a), World(node_b)
    yield a, b
    a.close()
    b.close()


def _eventually(request: Callable[[], httpx.Response], status: int, code: str | None) -> None:
    """Poll until the other node answers the new way (a generous deadline, only against hangs)."""
    deadline = time.monotonic() + 15
    while True:
        response = request()
        if (response.status_code, error_code(response)) == (status, code):
            return
        assert time.monotonic() < deadline, f"kept answering {response.status_code}"
        time.sleep(0.02)


def test_sso_changes_reach_the_other_process(
    worlds: tuple[World, World], provider: IdentityProvider
) -> None:
    world_a, world_b = worlds
    account = world_a.user("Owner")
    owner = world_a.login(account)
    slug = world_a.organization(owner)
    configure(owner, slug, provider.issuer)
    owner_sso = world_a.anonymous()
    assert sign_in(owner_sso, provider, slug, provider.person(account.email)).status_code == 303
    csrf_of(owner_sso)

    member = world_a.member(owner, slug)
    secret_token = world_a.personal_token(member.session)
    token_id = member.session.get("/api/0/users/me/tokens/").json()[0]["id"]
    on_b = world_b.bearer(secret_token)
    session_b = world_b.client()
    session_b.http.cookies = member.session.http.cookies
    read = f"/api/0/organizations/{slug}/"
    for _ in range(3):  # warm B's caches with the old answers
        assert on_b.get(read).status_code == 200
        assert session_b.get(read).status_code == 200

    flip = owner_sso.put(read, json={"settings": {"require_sso": True}})
    assert flip.status_code == 200, flip.text
    _eventually(lambda: on_b.get(read), 403, "personal-token-sso-unauthorized")
    _eventually(lambda: session_b.get(read), 401, "sso-required")

    # The member's browser signs in through SSO on A (the same session): B lets it in.
    subject = provider.person(member.account.email)
    assert sign_in(member.session, provider, slug, subject).status_code == 303
    _eventually(lambda: session_b.get(read), 200, None)

    # The token is authorized on A: B lets it in; an owner revokes it on A: B stops it.
    started = member.session.post(
        f"/api/0/users/me/tokens/{token_id}/sso-authorizations/", json={"organization": slug}
    )
    query = urlsplit(started.json()["authorizeUrl"]).query
    assert sign_in(member.session, provider, slug, subject, f"?{query}").status_code == 303
    _eventually(lambda: on_b.get(read), 200, None)
    [authorization] = owner_sso.get(
        f"/api/0/organizations/{slug}/credential-authorizations/"
    ).json()
    revoked = owner_sso.delete(
        f"/api/0/organizations/{slug}/credential-authorizations/{authorization['id']}/"
    )
    assert revoked.status_code == 204
    _eventually(lambda: on_b.get(read), 403, "personal-token-sso-unauthorized")

    # Turning the requirement off on A opens B again for the token.
    assert owner_sso.put(read, json={"settings": {"require_sso": False}}).status_code == 200
    _eventually(lambda: on_b.get(read), 200, None)
