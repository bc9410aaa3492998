"""Two-factor authentication: enrol with an authenticator, sign in with a code, and
organizations that require it."""

from __future__ import annotations

import time

import pyotp

from tests.mailbox import Mailbox
from tests.rules.conftest import queued_to
from tests.support import (
    PASSWORD,
    ApiClient,
    UserAccount,
    World,
    assert_error,
    error_code,
    eventually,
)


def next_code(secret: str) -> str:
    """The code of the next time step: accepted once the current one has been used."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def enrol(client: ApiClient) -> str:
    setup = client.post("/api/0/users/me/2fa/setup/")
    assert setup.status_code == 201, setup.text
    body = setup.json()
    assert body["qr_svg"].startswith("<svg") and body["secret"] in body["otpauth_uri"]
    assert client.get("/api/0/users/me/2fa/").json() == {"enabled": False, "pending": True}
    wrong = client.post("/api/0/users/me/2fa/confirm/", json={"code": "000000"})
    if pyotp.TOTP(body["secret"]).verify("000000", valid_window=1):
        wrong = client.post("/api/0/users/me/2fa/confirm/", json={"code": "abcdef"})
    assert_error(wrong, 400, "invalid-request")
    confirmed = client.post(
        "/api/0/users/me/2fa/confirm/", json={"code": pyotp.TOTP(body["secret"]).now()}
    )
    assert confirmed.json() == {"enabled": True, "pending": False}
    secret: str = body["secret"]
    return secret


def login(world: World, account: UserAccount, code: str | None) -> ApiClient:
    client = world.anonymous()
    body = {"email": account.email, "password": PASSWORD}
    if code is not None:
        body["code"] = code
    response = client.post("/api/0/auth/login/", json=body)
    assert response.status_code == 200, response.text
    client.http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def test_sign_in_asks_for_the_code_once_two_factor_is_on(rules: World) -> None:
    account = rules.user()
    session = rules.login(account)
    secret = enrol(session)
    anonymous = rules.anonymous()
    asked = anonymous.post(
        "/api/0/auth/login/", json={"email": account.email, "password": PASSWORD}
    )
    assert_error(asked, 401, "2fa-code-required")
    wrong = anonymous.post(
        "/api/0/auth/login/",
        json={"email": account.email, "password": PASSWORD, "code": "12345x"},
    )
    assert_error(wrong, 401, "invalid-2fa-code")
    assert login(rules, account, next_code(secret)).get("/api/0/users/me/").status_code == 200


def test_organization_requiring_two_factor(rules: World) -> None:
    owner_account = rules.user()
    owner = rules.login(owner_account)
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    member_token = rules.bearer(rules.personal_token(member.session, ["org:read"]))
    org_token = rules.bearer(rules.organization_token(owner, slug, ["org:read"]))

    refused = owner.put(f"/api/0/organizations/{slug}/", json={"settings": {"require_2fa": True}})
    assert_error(refused, 400, "invalid-request")
    enrol(owner)
    required = owner.put(f"/api/0/organizations/{slug}/", json={"settings": {"require_2fa": True}})
    assert required.status_code == 200, required.text

    for client in (member.session, member_token):
        detail = assert_error(client.get(f"/api/0/organizations/{slug}/"), 401, "2fa-required")
        assert detail["extra"] == {"organization": slug}
    assert org_token.get(f"/api/0/organizations/{slug}/").status_code == 200
    assert owner.get(f"/api/0/organizations/{slug}/").status_code == 200

    secret = enrol(member.session)
    assert member.session.get(f"/api/0/organizations/{slug}/").status_code == 200
    assert member_token.get(f"/api/0/organizations/{slug}/").status_code == 200
    kept = member.session.post("/api/0/users/me/2fa/remove/", json={"code": next_code(secret)})
    assert (
        error_code(kept) == "conflict" and slug in kept.json()["detail"]["extra"]["organizations"]
    )


def test_removing_two_factor_needs_a_current_code(rules: World) -> None:
    session = rules.session()
    secret = enrol(session)
    assert_error(
        session.post("/api/0/users/me/2fa/remove/", json={"code": "99999x"}), 400, "invalid-request"
    )
    removed = session.post("/api/0/users/me/2fa/remove/", json={"code": next_code(secret)})
    assert removed.json() == {"enabled": False, "pending": False}


def test_two_factor_is_managed_from_a_session_only(rules: World) -> None:
    session = rules.session()
    token = rules.bearer(rules.personal_token(session))
    assert_error(token.post("/api/0/users/me/2fa/setup/"), 403, "session-required")


def test_an_organization_requiring_two_factor_stays_listed_for_members_without_it(
    rules: World,
) -> None:
    owner = rules.session()
    enrol(owner)
    slug = rules.organization(owner, require_2fa=True)
    member = rules.member(owner, slug)
    listed = member.session.get("/api/0/organizations/").json()
    assert slug in {o["slug"] for o in listed}
    assert_error(member.session.get(f"/api/0/organizations/{slug}/"), 401, "2fa-required")


def test_requiring_two_factor_tells_each_member_without_it_once(
    rules: World, mailbox: Mailbox
) -> None:
    owner = rules.session()
    enrol(owner)
    slug = rules.organization(owner)
    plain, token_user, ready = (rules.member(owner, slug) for _ in range(3))
    enrol(ready.session)
    secret = rules.personal_token(token_user.session, ["org:read"])
    assert rules.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200
    usage = f"/api/0/organizations/{slug}/personal-token-usage/"
    assert eventually(lambda: len(owner.get(usage).json()["tokens"]) == 1)
    preview = owner.get(usage, params={"require_2fa": "true"}).json()
    assert preview["totals"]["members_to_notify"] == 2
    assert preview["proposed"]["require_2fa"] is True

    saved = owner.put(f"/api/0/organizations/{slug}/", json={"settings": {"require_2fa": True}})
    assert saved.status_code == 200
    assert eventually(lambda: len(mailbox.to(plain.account.email)) == 1)
    assert eventually(lambda: len(mailbox.to(token_user.account.email)) == 1)
    told = mailbox.to(plain.account.email)[0]
    assert "two-factor" in told.subject and "/settings/account/security/" in told.body
    with_token = mailbox.to(token_user.account.email)[0]
    assert secret[-4:] in with_token.body and "enrol an authenticator" in with_token.body
    assert secret not in with_token.body
    # Queued with the change, in its transaction: the enrolled member is owed nothing.
    assert queued_to(rules, ready.account.email) == []
    assert len(queued_to(rules, plain.account.email)) == 1
    assert mailbox.to(ready.account.email) == []
    entry = owner.get(f"/api/0/organizations/{slug}/audit-logs/?event=org.edit").json()[0]
    assert entry["data"]["members_notified"] == 2


def test_a_code_is_accepted_once(rules: World) -> None:
    account = rules.user()
    secret = enrol(rules.login(account))
    fresh = next_code(secret)
    assert login(rules, account, fresh).get("/api/0/users/me/").status_code == 200
    again = rules.anonymous().post(
        "/api/0/auth/login/", json={"email": account.email, "password": PASSWORD, "code": fresh}
    )
    assert_error(again, 401, "invalid-2fa-code")
