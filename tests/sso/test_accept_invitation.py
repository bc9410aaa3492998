"""Accepting an invitation through the organization's SSO (a real OpenID provider), or with one
click when already signed in: the link's key stays in a signed cookie and is never stored, only
the invited email may accept, and a refusal leaves the invitation usable."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from tests.leakwatch import WATCH
from tests.sso.conftest import SsoOrganization, configure
from tests.sso.invitations import in_store, invitation_keys, invite
from tests.sso.provider import IdentityProvider, csrf_of
from tests.support import ApiClient, LiveServer, World, unique
from tokenward.config import Settings
from tokenward.store.tables import Base, SsoLoginAttempt, User
from tokenward.web.invitation_sso import INVITATION_COOKIE, INVITATION_COOKIE_SALT

CONTINUE = "/accept-invite/continue/"
PASSWORD = "a brand new passphrase"


def _everything_stored(world: World) -> str:
    """Every row of every table, as text."""

    async def dump(db: Any) -> str:
        lines = []
        for table in Base.metadata.sorted_tables:
            for row in (await db.execute(table.select())).all():
                lines.append(f"{table.name}: {tuple(row)}")
        return "\n".join(lines)

    return str(in_store(world, dump))


def _account_exists(world: World, email: str) -> bool:
    async def find(db: Any) -> bool:
        return await db.scalar(select(User.id).where(User.email == email)) is not None

    return bool(in_store(world, find))


def _invitations(owner: ApiClient, slug: str) -> list[dict[str, Any]]:
    response = owner.get(f"/api/0/organizations/{slug}/invitations/")
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed


def _to_provider(browser: ApiClient, key: str) -> httpx.Response:
    """Press "Continue with SSO" and follow to the identity provider (not yet signed in there)."""
    began = browser.get(f"/accept-invite/{key}/sso/", follow_redirects=False)
    assert began.status_code == 303, began.text
    login = browser.get(began.headers["location"], follow_redirects=False)
    assert login.status_code == 303, login.text
    return login


def _back_from_provider(
    browser: ApiClient, provider: IdentityProvider, login: httpx.Response, subject: str
) -> httpx.Response:
    callback = provider.authorize(login.headers["location"], subject)
    return browser.get(callback, follow_redirects=False)


def test_a_new_person_joins_through_sso_without_auto_provisioning(
    world: World, provider: IdentityProvider
) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    configure(owner, slug, provider.issuer)  # auto-provisioning off
    email, key = invite(world, owner, slug, "manager")
    browser = world.anonymous()

    page = browser.get(f"/accept-invite/{key}/")
    assert page.status_code == 200 and f"Continue with {slug.title()} SSO" in page.text
    assert "Choose a password" in page.text  # offered next to the password form

    began = browser.get(f"/accept-invite/{key}/sso/", follow_redirects=False)
    assert began.status_code == 303
    assert began.headers["location"] == f"/auth/login/{slug}/?next={CONTINUE}"
    cookie = began.headers["set-cookie"].lower()
    assert cookie.startswith(INVITATION_COOKIE + "=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=900" in cookie
    assert "secure" not in cookie  # plain http here; https gets Secure
    login = browser.get(began.headers["location"], follow_redirects=False)

    # While the browser is at the provider, the sign-in attempt holds only the fixed path.
    stored = _everything_stored(world)
    assert key not in stored

    async def attempts(db: Any) -> list[str | None]:
        return list((await db.scalars(select(SsoLoginAttempt.next_path))).all())

    assert CONTINUE in in_store(world, attempts)
    assert key not in login.headers["location"]  # the request to the identity provider

    subject = provider.person(email.upper(), name="Invited Person")
    done = _back_from_provider(browser, provider, login, subject)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == CONTINUE
    landed = browser.get(CONTINUE, follow_redirects=False)
    assert landed.status_code == 303, landed.text
    assert landed.headers["location"] == f"/settings/{slug}/"
    assert browser.http.cookies.get(INVITATION_COOKIE) is None

    csrf_of(browser)
    me = browser.get("/api/0/users/me/").json()
    assert me["email"] == email and me["name"] == "Invited Person"
    assert browser.get(f"/api/0/organizations/{slug}/").json()["role"] == "manager"
    assert _invitations(owner, slug) == []
    events = owner.get(f"/api/0/organizations/{slug}/audit-logs/").json()
    accepted = [e for e in events if e["event"] == "member.accept-invite"]
    assert len(accepted) == 1 and accepted[0]["data"]["via"] == "sso"
    assert accepted[0]["data"]["role"] == "manager"

    # The link worked once.
    again = world.anonymous()
    assert again.get(f"/accept-invite/{key}/").status_code == 410
    reused = again.get(f"/accept-invite/{key}/sso/", follow_redirects=False)
    assert reused.status_code == 410 and "already been used" in reused.text
    assert key not in _everything_stored(world)


def test_another_email_at_the_provider_is_refused_and_the_invitation_still_works(
    world: World, provider: IdentityProvider
) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    configure(owner, slug, provider.issuer, auto_provision=True)
    email, key = invite(world, owner, slug)
    stranger = f"{unique('stranger')}@example.com"

    browser = world.anonymous()
    login = _to_provider(browser, key)
    refused = _back_from_provider(browser, provider, login, provider.person(stranger))
    assert refused.status_code == 403, refused.text
    masked = email[0] + "***" + email.split("@")[0][-1] + "@example.com"
    assert masked in refused.text and "someone else" in refused.text
    # Not even auto-provisioning made the other person an account or a member.
    assert not _account_exists(world, stranger)
    assert browser.get("/api/0/users/me/").status_code == 401
    members = owner.get(f"/api/0/organizations/{slug}/members/").json()
    assert len(members) == 1
    assert [i["status"] for i in _invitations(owner, slug)] == ["invited"]

    # Someone signed in with another email is refused on the page too.
    other = world.session("Other")
    page = other.get(f"/accept-invite/{key}/")
    assert page.status_code == 403 and masked in page.text
    assert _invitations(owner, slug)[0]["status"] == "invited"

    # The invited person can still accept it.
    again = world.anonymous()
    login = _to_provider(again, key)
    assert _back_from_provider(again, provider, login, provider.person(email)).status_code == 303
    assert again.get(CONTINUE, follow_redirects=False).headers["location"] == f"/settings/{slug}/"


def test_a_tampered_or_expired_cookie_changes_nothing(
    world: World, provider: IdentityProvider
) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    configure(owner, slug, provider.issuer)
    email, key = invite(world, owner, slug)

    tampered = world.anonymous()
    login = _to_provider(tampered, key)
    value = tampered.http.cookies[INVITATION_COOKIE]
    forged = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    tampered.http.cookies.set(INVITATION_COOKIE, forged)
    refused = _back_from_provider(tampered, provider, login, provider.person(email))
    assert refused.status_code == 400 and "no longer holds" in refused.text

    class Stale(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 16 * 60

    expired = world.anonymous()
    login = _to_provider(expired, key)
    stale = URLSafeTimedSerializer(
        world.server.settings.secret_key, salt=INVITATION_COOKIE_SALT, signer=Stale
    ).dumps(key)
    expired.http.cookies.set(INVITATION_COOKIE, stale)
    refused = _back_from_provider(expired, provider, login, provider.person(email))
    assert refused.status_code == 400 and "no longer holds" in refused.text

    # A valid cookie does not make an ordinary sign-in (not started from the invitation) create
    # the account.
    ordinary = world.anonymous()
    _to_provider(ordinary, key)
    assert ordinary.http.cookies.get(INVITATION_COOKIE)
    plain = ordinary.get(f"/auth/login/{slug}/", follow_redirects=False)
    refused = _back_from_provider(ordinary, provider, plain, provider.person(email))
    assert refused.status_code == 400 and "no Tokenward account" in refused.text

    # Straight to the continue page, with no cookie at all.
    lost = world.anonymous().get(CONTINUE, follow_redirects=False)
    assert lost.status_code == 400 and "no longer holds the invitation" in lost.text

    assert not _account_exists(world, email)
    assert [i["status"] for i in _invitations(owner, slug)] == ["invited"]
    assert world.anonymous().get(f"/accept-invite/{key}/").status_code == 200


def test_signed_in_with_the_invited_email_joins_with_one_click(
    world: World, provider: IdentityProvider
) -> None:
    owner = world.session("Owner")
    first, second = world.organization(owner), world.organization(owner)
    email, first_key = invite(world, owner, first)
    response = owner.post(
        f"/api/0/organizations/{second}/members/", json={"email": email, "role": "manager"}
    )
    assert response.status_code == 201 and response.json()["status"] == "invited"

    (second_key,) = invitation_keys(world, email) - {first_key}

    # The first invitation makes the account (by password) and signs the browser in.
    browser = world.anonymous()
    WATCH.password(PASSWORD)
    made = browser.post(
        f"/accept-invite/{first_key}/", data={"name": "Joiner", "password": PASSWORD}
    )
    assert made.status_code == 303, made.text

    # The SSO path's continue page wants a session that came through the organization's SSO.
    assert browser.get(f"/accept-invite/{second_key}/sso/", follow_redirects=False).is_redirect
    unfinished = browser.get(CONTINUE, follow_redirects=False)
    assert unfinished.status_code == 400 and "did not finish" in unfinished.text

    page = browser.get(f"/accept-invite/{second_key}/")
    assert page.status_code == 200 and "You are signed in with this email" in page.text
    assert 'name="password"' not in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    # Without the form's CSRF token nothing happens.
    forged = browser.post(f"/accept-invite/{second_key}/join/", data={"csrf_token": "x"})
    assert forged.status_code == 403
    assert [i["status"] for i in _invitations(owner, second)] == ["invited"]

    joined = browser.post(f"/accept-invite/{second_key}/join/", data={"csrf_token": csrf.group(1)})
    assert joined.status_code == 303, joined.text
    assert joined.headers["location"] == f"/settings/{second}/"
    csrf_of(browser)
    assert browser.get(f"/api/0/organizations/{second}/").json()["role"] == "manager"
    events = owner.get(f"/api/0/organizations/{second}/audit-logs/").json()
    assert [e["data"]["via"] for e in events if e["event"] == "member.accept-invite"] == ["session"]
    again = browser.post(f"/accept-invite/{second_key}/join/", data={"csrf_token": csrf.group(1)})
    assert again.status_code == 410 and "already been used" in again.text


def test_an_organization_that_requires_sso_takes_invitees_only_through_it(
    world: World, provider: IdentityProvider, sso_org: SsoOrganization
) -> None:
    slug = sso_org.slug
    turned = sso_org.owner_sso.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"require_sso": True}}
    )
    assert turned.status_code == 200, turned.text
    email, key = invite(world, sso_org.owner_sso, slug)

    page = world.anonymous().get(f"/accept-invite/{key}/")
    assert page.status_code == 200 and f"Continue with {slug.title()} SSO" in page.text
    assert 'name="password"' not in page.text and "only through its SSO" in page.text
    WATCH.password(PASSWORD)
    by_password = world.anonymous().post(
        f"/accept-invite/{key}/", data={"name": "Someone", "password": PASSWORD}
    )
    assert by_password.status_code == 403 and "only through its SSO" in by_password.text
    assert not _account_exists(world, email)

    browser = world.anonymous()
    login = _to_provider(browser, key)
    assert _back_from_provider(browser, provider, login, provider.person(email)).status_code == 303
    assert browser.get(CONTINUE, follow_redirects=False).status_code == 303
    csrf_of(browser)
    # The session came through the organization's SSO, so the new member may use it at once.
    assert browser.get(f"/api/0/organizations/{slug}/").json()["role"] == "member"


def test_the_invitation_cookie_is_secure_when_configured(
    world: World, provider: IdentityProvider
) -> None:
    owner = world.session("Owner")
    slug = world.organization(owner)
    configure(owner, slug, provider.issuer)
    _, key = invite(world, owner, slug)
    # A second server over the same database and secret key, with TOKENWARD_COOKIE_SECURE=true.
    settings = world.server.settings
    secure = LiveServer(
        Settings(
            database_url=settings.database_url, secret_key=settings.secret_key, cookie_secure=True
        )
    ).start()
    try:
        browser = ApiClient(secure.url)
        began = browser.get(f"/accept-invite/{key}/sso/", follow_redirects=False)
        browser.close()
    finally:
        secure.stop()
    assert began.status_code == 303, began.text
    cookie = began.headers["set-cookie"].lower()
    assert cookie.startswith(INVITATION_COOKIE + "=") and "; secure" in cookie
