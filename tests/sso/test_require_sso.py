"""Requiring SSO: who may turn it on, what it stops (shown first), break-glass for owners, and
personal tokens authorized per organization through the identity provider."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.sso.conftest import SsoOrganization, configure
from tests.sso.provider import IdentityProvider, csrf_of, sign_in
from tests.support import ApiClient, World, assert_error, error_fields


def _settings(client: ApiClient, slug: str, **settings: object) -> httpx.Response:
    return client.put(f"/api/0/organizations/{slug}/", json={"settings": settings})


def _events(client: ApiClient, slug: str, event: str) -> list[dict[str, Any]]:
    entries = client.get(f"/api/0/organizations/{slug}/audit-logs/").json()
    return [entry for entry in entries if entry["event"] == event]


def _standing(owner: ApiClient, slug: str, token_id: str) -> str:
    """The token's standing in the organization's personal-token inventory."""
    inventory = owner.get(f"/api/0/organizations/{slug}/personal-tokens/").json()
    standing: str = next(t["standing"] for t in inventory if t["id"] == token_id)
    return standing


def _authorize(
    world: World, provider: IdentityProvider, session: ApiClient, slug: str, token_id: str, sub: str
) -> None:
    """Follow the authorize URL the API gives, through the provider, in the user's browser."""
    started = session.post(
        f"/api/0/users/me/tokens/{token_id}/sso-authorizations/", json={"organization": slug}
    )
    assert started.status_code == 200, started.text
    url = urlsplit(started.json()["authorizeUrl"])
    assert url.path == f"/auth/login/{slug}/"
    done = sign_in(session, provider, slug, sub, f"?{url.query}")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/settings/account/tokens/"


def test_turning_it_on_needs_configuration_and_an_owner_signed_in_through_it(
    world: World, provider: IdentityProvider, sso_org: SsoOrganization
) -> None:
    slug = sso_org.slug
    bare = world.organization(sso_org.owner)
    assert error_fields(_settings(sso_org.owner, bare, require_sso=True)) == [
        "settings.require_sso"
    ]
    # The owner's password session has not come through SSO: turning it on could lock them out.
    assert error_fields(_settings(sso_org.owner, slug, require_sso=True)) == [
        "settings.require_sso"
    ]
    member = world.member(sso_org.owner, slug)
    world.personal_token(member.session)
    preview = sso_org.owner_sso.get(f"/api/0/organizations/{slug}/sso/require-preview/").json()
    assert preview["members"] == 2 and preview["members_without_sso"] == 1
    assert preview["members_without_sso_emails"] == [member.account.email]
    assert preview["personal_tokens_stopped"] == 1 and preview["members_to_notify"] == 1

    turned = _settings(sso_org.owner_sso, slug, require_sso=True)
    assert turned.status_code == 200, turned.text
    assert turned.json()["settings"]["require_sso"] is True
    edit = _events(sso_org.owner_sso, slug, "org.edit")[0]
    assert edit["data"]["changes"] == {"require_sso": {"old": False, "new": True}}
    assert edit["data"]["members_notified"] == 1
    assert_error(sso_org.owner_sso.delete(f"/api/0/organizations/{slug}/sso/"), 409, "conflict")


def test_sessions_need_sso_and_owners_keep_break_glass(
    world: World, provider: IdentityProvider, sso_org: SsoOrganization
) -> None:
    slug = sso_org.slug
    member = world.member(sso_org.owner, slug)
    org_token = world.bearer(world.organization_token(sso_org.owner, slug, ["org:read"]))
    assert _settings(sso_org.owner_sso, slug, require_sso=True).status_code == 200

    detail = assert_error(member.session.get(f"/api/0/organizations/{slug}/"), 401, "sso-required")
    assert detail["extra"] == {"organization": slug, "loginUrl": f"/auth/login/{slug}/"}
    # Pages send the person through the identity provider and back to where they were.
    page = member.session.get(f"/settings/{slug}/members/", follow_redirects=False)
    assert page.headers["location"] == f"/auth/login/{slug}/?next=/settings/{slug}/members/"
    # The organization still lists for the session, which learns why on entering.
    assert slug in [o["slug"] for o in member.session.get("/api/0/organizations/").json()]
    assert org_token.get(f"/api/0/organizations/{slug}/").status_code == 200
    assert sso_org.owner_sso.get(f"/api/0/organizations/{slug}/members/").status_code == 200

    # The member signs in through SSO: in, with the same browser.
    subject = provider.person(member.account.email)
    assert sign_in(member.session, provider, slug, subject).status_code == 303
    assert member.session.get(f"/api/0/organizations/{slug}/").status_code == 200

    # Break-glass: the owner's password session reaches the SSO and security settings only.
    owner = sso_org.owner
    assert_error(owner.get(f"/api/0/organizations/{slug}/members/"), 401, "sso-required")
    assert_error(
        owner.put(f"/api/0/organizations/{slug}/", json={"name": "Renamed"}), 401, "sso-required"
    )
    assert owner.get(f"/api/0/organizations/{slug}/sso/").status_code == 200
    assert owner.get(f"/settings/{slug}/security/").status_code == 200
    # No break-glass for anyone but owners: a manager's password session is sent to sign in.
    manager = world.member(sso_org.owner_sso, slug, "manager")
    page = manager.session.get(f"/settings/{slug}/security/", follow_redirects=False)
    assert page.headers["location"].startswith(f"/auth/login/{slug}/")
    off = _settings(owner, slug, require_sso=False)
    assert off.status_code == 200, off.text
    glass = _events(sso_org.owner_sso, slug, "sso.break-glass")
    assert {(e["data"]["method"], e["data"]["path"]) for e in glass} == {
        ("GET", f"/api/0/organizations/{slug}/sso/"),
        ("GET", f"/settings/{slug}/security/"),
        ("PUT", f"/api/0/organizations/{slug}/"),
    }
    assert owner.get(f"/api/0/organizations/{slug}/members/").status_code == 200


def test_personal_tokens_need_an_sso_authorization(
    world: World, provider: IdentityProvider, sso_org: SsoOrganization
) -> None:
    slug = sso_org.slug
    other = world.organization(sso_org.owner_sso)
    member = world.member(sso_org.owner_sso, slug, "manager")
    world.add_member(sso_org.owner_sso, other, member.account, "member")
    secret = world.personal_token(member.session)
    token = world.bearer(secret)
    token_id = member.session.get("/api/0/users/me/tokens/").json()[0]["id"]
    assert token.get(f"/api/0/organizations/{slug}/").status_code == 200
    assert _settings(sso_org.owner_sso, slug, require_sso=True).status_code == 200

    refused = token.get(f"/api/0/organizations/{slug}/projects/")
    url = f"/auth/login/{slug}/?token={token_id}"
    assert_error(
        refused,
        403,
        "personal-token-sso-unauthorized",
        {"organization": slug, "authorizeUrl": url},
    )
    assert refused.headers["Tokenward-SSO"] == f"required; url={url}"
    assert _standing(sso_org.owner_sso, slug, token_id) == "sso-unauthorized"
    listed = token.get("/api/0/organizations/")
    assert [o["slug"] for o in listed.json()] == [other]
    assert listed.headers["Tokenward-SSO"] == f"partial-results; organizations={slug}"
    # Report mode relaxes a denial, never the missing authorization.
    assert (
        _settings(
            sso_org.owner_sso,
            slug,
            personal_token_enforcement="report",
            allow_personal_tokens=False,
        ).status_code
        == 200
    )
    assert_error(token.get(f"/api/0/organizations/{slug}/"), 403, "personal-token-sso-unauthorized")
    _settings(sso_org.owner_sso, slug, allow_personal_tokens=True)

    # Another person at the provider cannot authorize this token.
    csrf_of(member.session)
    started = member.session.post(
        f"/api/0/users/me/tokens/{token_id}/sso-authorizations/", json={"organization": slug}
    )
    stranger = provider.person(sso_org.owner_account.email)
    wrong = sign_in(
        member.session,
        provider,
        slug,
        stranger,
        "?" + urlsplit(started.json()["authorizeUrl"]).query,
    )
    assert wrong.status_code == 400 and "someone other" in wrong.text
    assert token.get(f"/api/0/organizations/{slug}/").status_code == 403

    subject = provider.person(member.account.email)
    _authorize(world, provider, member.session, slug, token_id, subject)
    assert token.get(f"/api/0/organizations/{slug}/").status_code == 200
    assert _standing(sso_org.owner_sso, slug, token_id) == "allowed"
    listed = token.get("/api/0/organizations/")
    assert "Tokenward-SSO" not in listed.headers and len(listed.json()) == 2

    # Owners and managers see it, with last use here, and revoke it: it stops at once.
    authorizations = member.session.get(f"/api/0/organizations/{slug}/credential-authorizations/")
    assert authorizations.status_code == 200, authorizations.text
    [entry] = authorizations.json()
    assert entry["token"]["id"] == token_id and entry["user"]["email"] == member.account.email
    assert "token" not in entry["token"]
    revoke = sso_org.owner_sso.delete(
        f"/api/0/organizations/{slug}/credential-authorizations/{entry['id']}/"
    )
    assert revoke.status_code == 204
    assert_error(token.get(f"/api/0/organizations/{slug}/"), 403, "personal-token-sso-unauthorized")
    assert [
        e["data"]["token_id"]
        for e in _events(sso_org.owner_sso, slug, "personal-token.sso-deauthorize")
    ] == [token_id]

    # Authorized again; then the member leaves and comes back: the authorization lapsed.
    _authorize(world, provider, member.session, slug, token_id, subject)
    assert token.get(f"/api/0/organizations/{slug}/").status_code == 200
    assert (
        sso_org.owner_sso.delete(
            f"/api/0/organizations/{slug}/members/{member.member_id}/"
        ).status_code
        == 204
    )
    world.add_member(sso_org.owner_sso, slug, member.account, "member")
    assert_error(token.get(f"/api/0/organizations/{slug}/"), 403, "personal-token-sso-unauthorized")

    # Authorized again; a new client at the provider ends every authorization.
    _authorize(world, provider, member.session, slug, token_id, subject)
    assert token.get(f"/api/0/organizations/{slug}/").status_code == 200
    configure(sso_org.owner_sso, slug, provider.issuer, client_id="tokenward-rotated")
    assert_error(token.get(f"/api/0/organizations/{slug}/"), 403, "personal-token-sso-unauthorized")
    # The owner's own session signs in through the new client too before acting again.
    assert sign_in(sso_org.owner_sso, provider, slug, sso_org.owner_subject).status_code == 303
    edits = _events(sso_org.owner_sso, slug, "sso.edit")
    assert edits[0]["data"]["authorizations_lapsed"] == 1
    assert edits[0]["data"]["changes"]["client_secret"] == {"changed": True}

    # Organization tokens are not affected; outsiders learn nothing.
    org_token = world.bearer(world.organization_token(sso_org.owner_sso, slug, ["org:read"]))
    assert org_token.get(f"/api/0/organizations/{slug}/").status_code == 200
    outsider = world.session()
    assert_error(
        outsider.post(
            f"/api/0/users/me/tokens/{token_id}/sso-authorizations/", json={"organization": slug}
        ),
        404,
        "not-found",
    )


def test_a_session_signs_in_through_sso_again_after_leaving_or_a_new_client(
    world: World, provider: IdentityProvider, sso_org: SsoOrganization
) -> None:
    slug = sso_org.slug
    member = world.member(sso_org.owner, slug)
    assert _settings(sso_org.owner_sso, slug, require_sso=True).status_code == 200
    subject = provider.person(member.account.email)
    assert sign_in(member.session, provider, slug, subject).status_code == 303
    assert member.session.get(f"/api/0/organizations/{slug}/").status_code == 200

    # Removed and added back: the membership is new, and so must be its SSO sign-in.
    removed = sso_org.owner_sso.delete(f"/api/0/organizations/{slug}/members/{member.member_id}/")
    assert removed.status_code == 204, removed.text
    world.add_member(sso_org.owner_sso, slug, member.account, "member")
    assert_error(member.session.get(f"/api/0/organizations/{slug}/"), 401, "sso-required")
    assert sign_in(member.session, provider, slug, subject).status_code == 303
    assert member.session.get(f"/api/0/organizations/{slug}/").status_code == 200

    # A new client at the provider: every session signs in through it again, owners included.
    configure(sso_org.owner_sso, slug, provider.issuer, client_id="tokenward-another-" + slug)
    assert_error(member.session.get(f"/api/0/organizations/{slug}/"), 401, "sso-required")
    owner_subject = sso_org.owner_subject
    assert_error(
        sso_org.owner_sso.get(f"/api/0/organizations/{slug}/members/"), 401, "sso-required"
    )
    assert sign_in(sso_org.owner_sso, provider, slug, owner_subject).status_code == 303
    assert sso_org.owner_sso.get(f"/api/0/organizations/{slug}/members/").status_code == 200
