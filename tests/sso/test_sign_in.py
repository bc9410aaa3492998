"""SSO configuration and the sign-in through a real OpenID provider: PKCE, linking, provisioning,
and every refusal (state, nonce, replay, unverified or foreign email, provider down)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.sso.conftest import SsoOrganization, client_secret, configure
from tests.sso.provider import IdentityProvider, csrf_of, identity_provider, s256, sign_in, start
from tests.support import ApiClient, World, assert_error, error_fields, free_port, unique


def _audit(owner_sso: ApiClient, slug: str, event: str) -> list[dict[str, Any]]:
    response = owner_sso.get(f"/api/0/organizations/{slug}/audit-logs/")
    assert response.status_code == 200, response.text
    return [entry for entry in response.json() if entry["event"] == event]


def test_configuration_checks_the_issuer_and_never_shows_the_secret(
    world: World, provider: IdentityProvider
) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    path = f"/api/0/organizations/{slug}/sso/"
    assert_error(owner.get(path), 404, "not-found")
    secret = client_secret()
    base = {"client_id": "tokenward", "client_secret": secret}
    # Plain http away from loopback, a provider that is not there, an issuer URL with no
    # discovery document, and no URL at all.
    for issuer in (
        "http://idp.example.com",
        f"http://127.0.0.1:{free_port()}",
        f"{provider.issuer}/tenant",
        "not a url",
    ):
        refused = owner.put(path, json={**base, "issuer": issuer})
        assert error_fields(refused) == ["issuer"], refused.text
    assert_error(owner.get(path), 404, "not-found")

    saved = owner.put(path, json={**base, "issuer": provider.issuer, "allowed_domains": ["Ex.COM"]})
    assert saved.status_code == 200, saved.text
    assert saved.headers["cache-control"] == "no-store"
    body = saved.json()
    assert body["issuer"] == provider.issuer and body["allowed_domains"] == ["ex.com"]
    assert body["redirect_uri"].endswith("/auth/sso/callback/")
    assert "client_secret" not in body and secret not in saved.text
    assert owner.get(path).json()["client_id"] == "tokenward"
    # Same issuer and client: the stored secret is kept when none is sent.
    kept = owner.put(path, json={"issuer": provider.issuer, "client_id": "tokenward"})
    assert kept.status_code == 200, kept.text
    assert error_fields(
        owner.put(path, json={"issuer": provider.issuer, "client_id": "another"})
    ) == ["client_secret"]

    member = world.member(owner, slug, "manager")
    assert_error(member.session.get(path), 403, "forbidden")
    token = world.bearer(world.personal_token(owner))
    assert_error(token.get(path), 403, "session-required")
    outsider = world.session()
    assert_error(outsider.get(path), 404, "not-found")

    events = owner.get(f"/api/0/organizations/{slug}/audit-logs/").json()
    enabled = [e for e in events if e["event"] == "sso.enable"]
    assert len(enabled) == 1 and enabled[0]["data"]["issuer"] == provider.issuer


def test_sign_in_links_the_account_with_pkce_and_marks_the_session(
    world: World, provider: IdentityProvider
) -> None:
    account = world.user("Linked")
    owner = world.login(account)
    slug = world.organization(owner)
    configure(owner, slug, provider.issuer)
    subject = provider.person(account.email.upper(), name="Linked Person")

    browser = world.anonymous()
    began = start(browser, f"/auth/login/{slug}/?next=/settings/{slug}/security/")
    assert began.status_code == 303
    request = parse_qs(urlsplit(began.headers["location"]).query)
    assert request["code_challenge_method"] == ["S256"]
    assert request["scope"] == ["openid email profile"]
    assert request["state"][0] and request["nonce"][0]
    callback = provider.authorize(began.headers["location"], subject)
    done = browser.get(callback, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/settings/{slug}/security/"
    # The code was exchanged with the verifier whose S256 challenge the request carried.
    exchange = provider.recorded.exchanges[-1]
    assert s256(exchange["code_verifier"]) == request["code_challenge"][0]
    assert exchange["redirect_uri"].endswith("/auth/sso/callback/")

    csrf_of(browser)
    me = browser.get("/api/0/users/me/")
    assert me.json()["email"] == account.email
    linked = _audit(browser, slug, "sso.login")
    assert linked[0]["data"]["linked"] is True and linked[0]["data"]["provisioned"] is False
    # The page after the redirect says the account was linked.
    page = browser.get(f"/settings/{slug}/security/")
    assert "linked" in page.text

    # A second sign-in uses the link (no new link).
    again = sign_in(world.anonymous(), provider, slug, subject)
    assert again.status_code == 303
    assert _audit(browser, slug, "sso.login")[0]["data"]["linked"] is False


def test_refusals_create_nothing(world: World, provider: IdentityProvider) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    configure(owner, slug, provider.issuer, allowed_domains=["example.com"])
    stranger = f"{unique('stranger')}@example.com"

    # No account and no provisioning.
    refused = sign_in(world.anonymous(), provider, slug, provider.person(stranger))
    assert refused.status_code == 400 and "no Tokenward account" in refused.text
    # Unverified email, and an email outside the allowed domains.
    unverified = sign_in(
        world.anonymous(), provider, slug, provider.person(stranger, verified=False)
    )
    assert unverified.status_code == 400 and "not verified" in unverified.text
    outside = f"{unique('outside')}@elsewhere.test"
    foreign = sign_in(world.anonymous(), provider, slug, provider.person(outside))
    assert foreign.status_code == 400 and "elsewhere.test" in foreign.text

    # A callback whose state did not start in this browser.
    browser = world.anonymous()
    began = start(browser, f"/auth/login/{slug}/")
    callback = provider.authorize(began.headers["location"], provider.person(stranger))
    hijacked = world.anonymous().get(callback, follow_redirects=False)
    assert hijacked.status_code == 400 and "state does not match" in hijacked.text

    # A code swapped into another sign-in: its ID token carries the other attempt's nonce.
    first = world.anonymous()
    first_started = start(first, f"/auth/login/{slug}/")
    second = world.anonymous()
    second_started = start(second, f"/auth/login/{slug}/")
    member = world.member(owner, slug)
    member_subject = provider.person(member.account.email)
    code = parse_qs(
        urlsplit(provider.authorize(first_started.headers["location"], member_subject)).query
    )["code"][0]
    second_state = parse_qs(urlsplit(second_started.headers["location"]).query)["state"][0]
    swapped = second.get(
        "/auth/sso/callback/", params={"state": second_state, "code": code}, follow_redirects=False
    )
    assert swapped.status_code == 400 and "nonce" in swapped.text

    # A replayed callback, cookie and all.
    replayer = world.anonymous()
    began = start(replayer, f"/auth/login/{slug}/")
    state_cookie = replayer.http.cookies.get("tokenward_sso_state")
    assert state_cookie is not None
    callback = provider.authorize(began.headers["location"], member_subject)
    assert replayer.get(callback, follow_redirects=False).status_code == 303
    replay = world.anonymous()
    replay.http.cookies.set("tokenward_sso_state", state_cookie, path="/auth/sso/callback/")
    replayed = replay.get(callback, follow_redirects=False)
    assert replayed.status_code == 400 and "already used" in replayed.text

    members = owner.get(f"/api/0/organizations/{slug}/members/").json()
    assert sorted(m["user"]["email"] for m in members) == sorted(
        [members[0]["user"]["email"], member.account.email]
    )
    assert len(members) == 2
    failures = [
        e
        for e in owner.get(f"/api/0/organizations/{slug}/audit-logs/").json()
        if e["event"] == "sso.login-failed"
    ]
    assert len(failures) >= 4


def test_provisioning_creates_the_account_and_membership(
    world: World, provider: IdentityProvider
) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    configure(owner, slug, provider.issuer, auto_provision=True)
    email = f"{unique('new')}@example.com"
    browser = world.anonymous()
    done = sign_in(browser, provider, slug, provider.person(email, name="New Person"))
    assert done.status_code == 303, done.text
    csrf_of(browser)
    assert browser.get("/api/0/users/me/").json()["name"] == "New Person"
    listed = browser.get("/api/0/organizations/").json()
    assert [o["slug"] for o in listed] == [slug] and listed[0]["role"] == "member"
    # No password was set: signing in with one does not work.
    assert_error(
        world.anonymous().post("/api/0/auth/login/", json={"email": email, "password": "x" * 12}),
        401,
        "invalid-credentials",
    )


def test_an_unreachable_or_expiring_provider_changes_nothing(world: World) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    with identity_provider(token_max_age=dt.timedelta(seconds=-300)) as expiring:
        configure(owner, slug, expiring.issuer)
        member = world.member(owner, slug)
        expired = sign_in(world.anonymous(), expiring, slug, expiring.person(member.account.email))
        assert expired.status_code == 400 and "expired" in expired.text
    # The provider is gone now.
    down = world.anonymous().get(f"/auth/login/{slug}/", follow_redirects=False)
    assert down.status_code == 502 and "cannot be reached" in down.text
    events = owner.get(f"/api/0/organizations/{slug}/audit-logs/").json()
    failed = [e for e in events if e["event"] == "sso.login-failed"]
    assert len(failed) == 2 and "could not be reached" in failed[0]["data"]["reason"]
    assert not [e for e in events if e["event"] == "sso.login"]


def test_sign_in_page_offers_sso_by_organization(world: World, sso_org: SsoOrganization) -> None:
    page = world.anonymous().get("/login/")
    assert "Sign in with SSO" in page.text
    redirected = world.anonymous().get(
        "/auth/sso/", params={"organization": sso_org.slug.upper()}, follow_redirects=False
    )
    assert redirected.headers["location"] == f"/auth/login/{sso_org.slug}/"
    unknown = world.anonymous().get(f"/auth/login/{unique('org')}/", follow_redirects=False)
    assert unknown.status_code == 404
