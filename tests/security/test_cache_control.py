"""Answers that carry a secret are never stored; other authenticated API answers stay private."""

from __future__ import annotations

from tests.support import World


def test_secrets_are_no_store_and_authenticated_answers_private(world: World) -> None:
    account = world.user()
    anonymous = world.anonymous()
    login = anonymous.post(
        "/api/0/auth/login/", json={"email": account.email, "password": account.password}
    )
    assert login.status_code == 200
    session = world.login(account)
    slug = world.organization(session)
    carrying_secrets = [
        login,
        session.get("/api/0/auth/session/"),
        session.post("/api/0/users/me/tokens/", json={"name": "t", "scopes": ["org:read"]}),
        session.post(
            f"/api/0/organizations/{slug}/tokens/", json={"name": "o", "scopes": ["org:read"]}
        ),
        session.post("/api/0/users/me/2fa/setup/"),
    ]
    for response in carrying_secrets:
        assert response.status_code in (200, 201), response.text
        assert response.headers.get("Cache-Control") == "no-store", response.request.url
    token = world.bearer(world.personal_token(session, ["org:read"]))
    for response in (
        session.get("/api/0/users/me/"),
        session.get(f"/api/0/organizations/{slug}/"),
        token.get("/api/0/organizations/"),
        token.get(f"/api/0/organizations/{slug}/"),
        token.get("/api/0/organizations/no-such-organization/"),
    ):
        cache_control = response.headers.get("Cache-Control", "")
        assert "private" in cache_control or "no-store" in cache_control, response.request.url
