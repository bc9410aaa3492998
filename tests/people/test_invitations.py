"""Invitations: an unknown email gets a single-use link by email; accepting it makes the account
and the membership and signs in; expired, revoked and used links change nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import select, update

from tests.mailbox import Mailbox
from tests.people.conftest import accept_links
from tests.support import ApiClient, World, assert_error, run_async, unique
from tokenward.http.access_log import RedactLinkKeys
from tokenward.store.engine import Store
from tokenward.store.tables import Invitation, OutgoingEmail, User

NEW_PASSWORD = "a brand new passphrase"


def _invite(owner: ApiClient, slug: str, role: str = "member") -> tuple[str, dict[str, object]]:
    email = f"{unique('invitee')}@example.com"
    response = owner.post(
        f"/api/0/organizations/{slug}/members/", json={"email": email, "role": role}
    )
    assert response.status_code == 201, response.text
    return email, response.json()


def _accept(world: World, path: str, **form: str) -> tuple[ApiClient, httpx.Response]:
    browser = world.anonymous()
    response = browser.post(path, data={"name": "New Person", "password": NEW_PASSWORD, **form})
    return browser, response


def _events(owner: ApiClient, slug: str) -> list[dict[str, Any]]:
    response = owner.get(f"/api/0/organizations/{slug}/audit-logs/")
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


async def _stored(database_url: str, email: str) -> tuple[list[Invitation], bool]:
    store = Store(database_url)
    try:
        async with store.session() as db:
            rows = (await db.scalars(select(Invitation).where(Invitation.email == email))).all()
            user = await db.scalar(select(User.id).where(User.email == email))
            return list(rows), user is not None
    finally:
        await store.close()


async def _queued_bodies(database_url: str, email: str) -> list[str]:
    store = Store(database_url)
    try:
        async with store.session() as db:
            query = select(OutgoingEmail.body).where(OutgoingEmail.recipient == email)
            return list((await db.scalars(query)).all())
    finally:
        await store.close()


async def _expire(database_url: str, email: str) -> None:
    store = Store(database_url)
    try:
        async with store.session() as db:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
            await db.execute(
                update(Invitation).where(Invitation.email == email).values(expires_at=past)
            )
            await db.commit()
    finally:
        await store.close()


def test_invite_email_accept_and_land_in_the_organization(
    people: World, people_mailbox: Mailbox
) -> None:
    owner = people.session()
    slug = people.organization(owner)
    email, invitation = _invite(owner, slug, "manager")
    assert invitation["status"] == "invited" and invitation["email"] == email
    assert set(invitation) >= {"id", "email", "role", "status", "expires_at"}
    expires = dt.datetime.fromisoformat(str(invitation["expires_at"]))
    assert dt.timedelta(days=6, hours=23) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(7)

    listed = owner.get(f"/api/0/organizations/{slug}/invitations/").json()
    assert [item["email"] for item in listed] == [email]

    (path,) = accept_links(people_mailbox, email)
    key = path.split("/")[2]
    stored, has_account = run_async(_stored(people.server.settings.database_url, email))
    assert not has_account
    assert [row.key_hash for row in stored] == [hashlib.sha256(key.encode()).hexdigest()]
    # The queued email keeps a sealed seed, never the key itself.
    (queued,) = run_async(_queued_bodies(people.server.settings.database_url, email))
    assert key not in queued and "/accept-invite/{{sealed:" in queued

    page = people.anonymous().get(path)
    assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
    assert "Join " + slug.title() in page.text and email in page.text

    browser, accepted = _accept(people, path)
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == f"/settings/{slug}/"
    me = browser.get(f"/api/0/organizations/{slug}/")
    assert me.status_code == 200 and me.json()["role"] == "manager"
    session = browser.get("/api/0/users/me/").json()
    assert session["email"] == email and session["name"] == "New Person"

    # Used once: the second try is a clear page, and nothing changes.
    _, again = _accept(people, path, password="another password!")
    assert again.status_code == 410 and "already been used" in again.text
    members = owner.get(f"/api/0/organizations/{slug}/members/").json()
    assert sorted(m["role"] for m in members) == ["manager", "owner"]
    assert owner.get(f"/api/0/organizations/{slug}/invitations/").json() == []

    events = _events(owner, slug)
    names = [entry["event"] for entry in events]
    assert names[:2] == ["member.accept-invite", "member.invite"]
    assert events[0]["actor"]["name"] == "New Person"


def test_revoke_resend_expire_and_reuse_change_nothing(
    people: World, people_mailbox: Mailbox
) -> None:
    owner = people.session()
    slug = people.organization(owner)
    email, invitation = _invite(owner, slug)
    assert_error(
        owner.post(
            f"/api/0/organizations/{slug}/members/", json={"email": email, "role": "member"}
        ),
        409,
        "conflict",
    )
    (first,) = accept_links(people_mailbox, email)
    resent = owner.post(f"/api/0/organizations/{slug}/invitations/{invitation['id']}/resend/")
    assert resent.status_code == 200, resent.text
    first_again, second = accept_links(people_mailbox, email, count=2)
    assert first_again == first and second != first
    stale = people.anonymous().get(first)
    assert stale.status_code == 404 and "not valid" in stale.text

    run_async(_expire(people.server.settings.database_url, email))
    expired = people.anonymous().get(second)
    assert expired.status_code == 410 and "expired" in expired.text
    _, posted = _accept(people, second)
    assert posted.status_code == 410
    listed = owner.get(f"/api/0/organizations/{slug}/invitations/").json()
    assert [item["status"] for item in listed] == ["expired"]

    revoked = owner.delete(f"/api/0/organizations/{slug}/invitations/{invitation['id']}/")
    assert revoked.status_code == 204
    assert owner.get(f"/api/0/organizations/{slug}/invitations/").json() == []
    assert_error(
        owner.delete(f"/api/0/organizations/{slug}/invitations/{invitation['id']}/"),
        404,
        "not-found",
    )
    _, has_account = run_async(_stored(people.server.settings.database_url, email))
    assert not has_account
    names = [entry["event"] for entry in _events(owner, slug)]
    assert names[:3] == ["member.invite-revoke", "member.invite-resend", "member.invite"]


def test_revoked_link_gets_a_clear_page(people: World, people_mailbox: Mailbox) -> None:
    owner = people.session()
    slug = people.organization(owner)
    email, invitation = _invite(owner, slug)
    (path,) = accept_links(people_mailbox, email)
    owner.delete(f"/api/0/organizations/{slug}/invitations/{invitation['id']}/")
    _, posted = _accept(people, path)
    assert posted.status_code == 410 and "withdrawn" in posted.text
    _, has_account = run_async(_stored(people.server.settings.database_url, email))
    assert not has_account


def test_only_owners_invite_owners_and_members_only_read(
    people: World, people_mailbox: Mailbox
) -> None:
    owner = people.session()
    slug = people.organization(owner)
    manager = people.member(owner, slug, "manager")
    member = people.member(owner, slug, "member")
    target = {"email": f"{unique('boss')}@example.com", "role": "owner"}
    refused = manager.session.post(f"/api/0/organizations/{slug}/members/", json=target)
    assert_error(refused, 403, "forbidden")
    _, invitation = _invite(manager.session, slug, "manager")
    owner_invite = owner.post(f"/api/0/organizations/{slug}/members/", json=target)
    assert owner_invite.status_code == 201, owner_invite.text
    # A manager may not revoke or resend an owner's invitation either.
    owner_id = owner_invite.json()["id"]
    path = f"/api/0/organizations/{slug}/invitations/{owner_id}/"
    assert_error(manager.session.delete(path), 403, "forbidden")
    assert_error(manager.session.post(path + "resend/"), 403, "forbidden")
    listed = member.session.get(f"/api/0/organizations/{slug}/invitations/")
    assert listed.status_code == 200 and len(listed.json()) == 2
    assert_error(
        member.session.delete(f"/api/0/organizations/{slug}/invitations/{invitation['id']}/"),
        403,
        "insufficient-scope",
    )
    outsider = people.session()
    assert_error(outsider.get(f"/api/0/organizations/{slug}/invitations/"), 404, "not-found")


def test_accepting_with_an_account_made_since_needs_its_password(
    people: World, people_mailbox: Mailbox
) -> None:
    owner = people.session()
    slug = people.organization(owner)
    email, _ = _invite(owner, slug)
    (path,) = accept_links(people_mailbox, email)
    _, short = _accept(people, path, password="short")
    assert short.status_code == 400 and "8 characters" in short.text
    _, has_account = run_async(_stored(people.server.settings.database_url, email))
    assert not has_account

    # The person signed up through another organization's invitation in the meantime.
    other = people.organization(owner)
    _invite_path = owner.post(
        f"/api/0/organizations/{other}/members/", json={"email": email, "role": "member"}
    )
    assert _invite_path.status_code == 201
    _, other_path = accept_links(people_mailbox, email, count=2)
    _, made = _accept(people, other_path)
    assert made.status_code == 303

    page = people.anonymous().get(path)
    assert "already have a Tokenward account" in page.text
    _, wrong = _accept(people, path, password="not the password")
    assert wrong.status_code == 401 and "not correct" in wrong.text
    browser, joined = _accept(people, path)
    assert joined.status_code == 303
    assert browser.get(f"/api/0/organizations/{slug}/").json()["role"] == "member"


def test_access_log_lines_never_show_an_invitation_key() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/accept-invite/SeCrEtKeY123/?x=1", "1.1", 200),
        None,
    )
    assert RedactLinkKeys().filter(record)
    assert "SeCrEtKeY123" not in record.getMessage()
    assert "/accept-invite/…/?x=1" in record.getMessage()


def test_one_link_accepted_many_times_at_once_makes_one_account_and_one_membership(
    people: World, people_mailbox: Mailbox
) -> None:
    owner = people.session()
    slug, later = people.organization(owner), people.organization(owner)
    email, _ = _invite(owner, slug)
    invited_too = owner.post(
        f"/api/0/organizations/{later}/members/", json={"email": email, "role": "member"}
    )
    assert invited_too.status_code == 201, invited_too.text
    path, later_path = accept_links(people_mailbox, email, count=2)

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: _accept(people, path)[1], range(12)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(303) == 1, statuses
    assert set(statuses) <= {303, 409, 410}, statuses
    members = owner.get(f"/api/0/organizations/{slug}/members/").json()
    assert sorted(m["role"] for m in members) == ["member", "owner"]
    assert [e["event"] for e in _events(owner, slug)].count("member.accept-invite") == 1

    # Signed in with the invited email, one click joins the other; many clicks at once, once.
    browser = people.client()
    signed_in = browser.post("/api/0/auth/login/", json={"email": email, "password": NEW_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    page = browser.get(later_path)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None, page.text
    join = later_path + "join/"
    with ThreadPoolExecutor(max_workers=12) as pool:
        joins = list(
            pool.map(lambda _: browser.post(join, data={"csrf_token": csrf[1]}), range(12))
        )
    statuses = sorted(answer.status_code for answer in joins)
    assert statuses.count(303) == 1, statuses
    assert set(statuses) <= {303, 409, 410}, statuses
    members = owner.get(f"/api/0/organizations/{later}/members/").json()
    assert sorted(m["role"] for m in members) == ["member", "owner"]
