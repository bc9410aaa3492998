"""The organization's SSO page and the tokens page's authorize form, driven by form posts."""

from __future__ import annotations

import httpx

from tests.sso.conftest import SsoOrganization
from tests.sso.provider import IdentityProvider, sign_in
from tests.support import ApiClient, World


def _post(client: ApiClient, path: str, data: dict[str, str]) -> httpx.Response:
    csrf = client.http.headers["X-CSRF-Token"]
    return client.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)


def test_owners_configure_and_require_sso_from_the_page(
    world: World, provider: IdentityProvider, sso_org: SsoOrganization
) -> None:
    slug, owner = sso_org.slug, sso_org.owner_sso
    page = owner.get(f"/settings/{slug}/sso/")
    assert page.status_code == 200
    assert "/auth/sso/callback/" in page.text and provider.issuer in page.text
    refused = _post(
        owner, f"/settings/{slug}/sso/", {"issuer": "http://idp.example.com", "client_id": "c"}
    )
    assert refused.status_code == 400 and "https" in refused.text
    saved = _post(
        owner,
        f"/settings/{slug}/sso/",
        {
            "issuer": provider.issuer,
            "client_id": f"tokenward-{slug}",
            "allowed_domains": "example.com, example.org",
        },
    )
    assert saved.status_code == 303
    assert owner.get(f"/api/0/organizations/{slug}/sso/").json()["allowed_domains"] == [
        "example.com",
        "example.org",
    ]

    member = world.member(owner, slug)
    asked = _post(owner, f"/settings/{slug}/sso/require/", {"require_sso": "on"})
    assert asked.status_code == 200 and "Confirm: require SSO" in asked.text
    assert member.account.email in asked.text
    assert owner.get(f"/api/0/organizations/{slug}/").json()["settings"]["require_sso"] is False
    done = _post(owner, f"/settings/{slug}/sso/require/", {"require_sso": "on", "confirmed": "yes"})
    assert done.status_code == 303
    assert owner.get(f"/api/0/organizations/{slug}/").json()["settings"]["require_sso"] is True

    # The owner's password session sees break-glass, in red.
    glass = sso_org.owner.get(f"/settings/{slug}/sso/")
    assert glass.status_code == 200 and 'id="break-glass"' in glass.text

    # The member authorizes a token from the tokens page; the owner revokes it from the SSO page.
    subject = provider.person(member.account.email)
    assert sign_in(member.session, provider, slug, subject).status_code == 303
    token = world.bearer(world.personal_token(member.session))
    token_id = member.session.get("/api/0/users/me/tokens/").json()[0]["id"]
    assert "Authorize through SSO" in member.session.get("/settings/account/tokens/").text
    start = member.session.get(
        "/auth/sso/", params={"organization": slug, "token": token_id}, follow_redirects=False
    )
    assert start.headers["location"] == f"/auth/login/{slug}/?token={token_id}"
    assert sign_in(member.session, provider, slug, subject, f"?token={token_id}").status_code == 303
    assert token.get(f"/api/0/organizations/{slug}/").status_code == 200
    listed = owner.get(f"/settings/{slug}/sso/")
    [authorization] = owner.get(f"/api/0/organizations/{slug}/credential-authorizations/").json()
    assert f"sso/authorizations/{authorization['id']}/revoke/" in listed.text
    revoked = _post(owner, f"/settings/{slug}/sso/authorizations/{authorization['id']}/revoke/", {})
    assert revoked.status_code == 303
    assert token.get(f"/api/0/organizations/{slug}/").status_code == 403
