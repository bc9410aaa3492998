"""Owners and managers see members' personal tokens here, and revoke one for here only."""

from __future__ import annotations

import datetime as dt

from tests.mailbox import Mailbox
from tests.support import ApiClient, World, assert_error, eventually


def _later(days: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()


def _token_id(session: ApiClient, token: str) -> str:
    listed = session.get("/api/0/users/me/tokens/").json()
    token_id: str = next(t["id"] for t in listed if t["token_last_characters"] == token[-4:])
    return token_id


def test_inventory_shows_each_token_and_its_standing(rules: World) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    short = rules.personal_token(member.session, ["org:read"], expires_at=_later(3))
    forever = rules.personal_token(member.session, ["org:read"])
    outsider_token = rules.personal_token(rules.session(), ["org:read"])
    path = f"/api/0/organizations/{slug}/personal-tokens/"

    listed = owner.get(path).json()
    assert {t["token_last_characters"] for t in listed} == {short[-4:], forever[-4:]}
    assert outsider_token[-4:] not in {t["token_last_characters"] for t in listed}
    assert {t["standing"] for t in listed} == {"allowed"}
    assert all("token" not in t for t in listed)

    owner.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"personal_token_max_lifetime_days": 5}}
    )
    standings = {t["token_last_characters"]: t["standing"] for t in owner.get(path).json()}
    assert standings == {short[-4:]: "allowed", forever[-4:]: "lifetime-exceeded"}

    owner.delete(f"{path}{_token_id(member.session, short)}/")
    owner.put(f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}})
    entries = {t["token_last_characters"]: t for t in owner.get(path).json()}
    assert entries[short[-4:]]["standing"] == "revoked-here"
    assert entries[short[-4:]]["revoked_here_at"] is not None
    assert entries[forever[-4:]]["standing"] == "denied-by-policy"
    assert entries[forever[-4:]]["user"]["email"] == member.account.email


def test_inventory_is_for_owners_and_managers(rules: World) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    manager = rules.member(owner, slug, "manager")
    member = rules.member(owner, slug)
    path = f"/api/0/organizations/{slug}/personal-tokens/"
    assert manager.session.get(path).status_code == 200
    assert_error(member.session.get(path), 403, "insufficient-scope")
    org_token = rules.bearer(rules.organization_token(owner, slug))
    assert_error(org_token.get(path), 403, "forbidden")
    assert_error(rules.session().get(path), 404, "not-found")


def test_revoke_for_here_only_and_the_user_is_told(rules: World, mailbox: Mailbox) -> None:
    owner = rules.session("Olive Owner")
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    other = rules.organization(member.session)
    secret = rules.personal_token(member.session, ["org:read"])
    token = rules.bearer(secret)
    token_id = _token_id(member.session, secret)
    path = f"/api/0/organizations/{slug}/personal-tokens/{token_id}/"

    by_token = rules.bearer(rules.personal_token(owner)).delete(path)
    assert_error(by_token, 403, "session-required")
    assert owner.delete(path).status_code == 204
    detail = assert_error(token.get(f"/api/0/organizations/{slug}/"), 403, "personal-token-revoked")
    assert detail["extra"] == {"organization": slug}
    assert token.get(f"/api/0/organizations/{other}/").status_code == 200
    assert_error(owner.delete(path), 404, "not-found")

    entry = owner.get(
        f"/api/0/organizations/{slug}/audit-logs/?event=personal-token.revoke-access"
    ).json()[0]
    assert entry["data"]["token_id"] == token_id
    assert entry["data"]["email"] == member.account.email
    assert eventually(lambda: len(mailbox.to(member.account.email)) == 1)
    email = mailbox.to(member.account.email)[0]
    assert slug in email.body and secret[-4:] in email.body and "Olive Owner" in email.body
    assert secret not in email.body and secret not in email.subject


def test_revoking_a_token_that_is_not_a_members_is_not_found(rules: World) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    stranger = rules.session()
    secret = rules.personal_token(stranger, ["org:read"])
    path = f"/api/0/organizations/{slug}/personal-tokens/{_token_id(stranger, secret)}/"
    assert_error(owner.delete(path), 404, "not-found")
    assert_error(owner.delete(f"/api/0/organizations/{slug}/personal-tokens/x1/"), 404, "not-found")


def test_a_token_revoked_here_no_longer_lists_the_organization(rules: World) -> None:
    owner = rules.session()
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    other = rules.organization(member.session)
    secret = rules.personal_token(member.session, ["org:read"])
    token = rules.bearer(secret)
    assert {o["slug"] for o in token.get("/api/0/organizations/").json()} == {slug, other}
    owner.delete(
        f"/api/0/organizations/{slug}/personal-tokens/{_token_id(member.session, secret)}/"
    )
    assert {o["slug"] for o in token.get("/api/0/organizations/").json()} == {other}
    assert {o["slug"] for o in member.session.get("/api/0/organizations/").json()} == {slug, other}
