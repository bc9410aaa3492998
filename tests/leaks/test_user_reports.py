"""A signed-in person reports a string they found: it is revoked as a scanner's report would be,
the same people are told, and the answer says nothing about whose token it was."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from tests.leaks.conftest import used_in
from tests.leaks.test_secret_scanning import audit_entries
from tests.mailbox import Mailbox
from tests.support import World, assert_error, error_fields, eventually, run_async
from tokenward import credentials
from tokenward.store.engine import Store
from tokenward.store.tables import OutgoingEmail

PATH = "/api/0/leaked-tokens/"
FOUND_AT = "https://pastebin.example/raw/abc"


async def _emails_to(database_url: str, recipient: str) -> int:
    store = Store(database_url)
    try:
        async with store.session() as db:
            count = await db.scalar(
                select(func.count())
                .select_from(OutgoingEmail)
                .where(OutgoingEmail.recipient == recipient)
            )
            return int(count or 0)
    finally:
        await store.close()


def test_anyone_signed_in_can_report_a_token_without_learning_whose_it_was(
    scanning: World, leak_mailbox: Mailbox
) -> None:
    world = scanning
    owner_account = world.user("Owner")
    owner = world.login(owner_account)
    slug = world.organization(owner)
    member = world.member(owner, slug)
    theirs = world.personal_token(member.session, ["org:read"])
    assert world.bearer(theirs).get(f"/api/0/organizations/{slug}/").status_code == 200
    assert eventually(used_in(owner, slug))
    finder_account = world.user("Finder")
    finder = world.login(finder_account)
    mine = world.personal_token(finder, ["org:read"])

    reported = finder.post(PATH, json={"token": theirs, "url": FOUND_AT})
    assert reported.status_code == 200, reported.text
    assert reported.headers["Cache-Control"] == "no-store"
    expected = hashlib.sha256(theirs.encode()).hexdigest()
    assert reported.json() == {"token_hash": expected, "label": "true_positive"}
    assert_error(world.bearer(theirs).get("/api/0/users/me/"), 401, "invalid-token")

    [told] = leak_mailbox.wait_for(member.account.email)
    assert FOUND_AT in told.body
    [told_owner] = leak_mailbox.wait_for(owner_account.email)
    assert member.account.email in told_owner.body
    [entry] = audit_entries(owner, slug, "personal-token.leaked")
    assert entry["data"]["url"] == FOUND_AT
    assert entry["actor"] == {"type": "user", "id": entry["actor"]["id"], "name": "Finder"}

    # One's own token, someone else's already revoked one, or no token at all: the answer has
    # the same shape and says only whether it was a Tokenward token.
    own = finder.post(PATH, json={"token": mine})
    again = finder.post(PATH, json={"token": theirs, "url": FOUND_AT})
    nothing = finder.post(PATH, json={"token": "hunter2"})
    lookalike = finder.post(
        PATH, json={"token": credentials.mint(credentials.TokenKind.ORGANIZATION).secret}
    )
    assert [r.json()["label"] for r in (own, again, nothing, lookalike)] == [
        "true_positive",
        "true_positive",
        "false_positive",
        "false_positive",
    ]
    assert all(set(r.json()) == {"token_hash", "label"} for r in (own, again, nothing))
    assert_error(world.bearer(mine).get("/api/0/users/me/"), 401, "invalid-token")
    # Reported twice, told once.
    database_url = world.server.settings.database_url
    assert run_async(_emails_to(database_url, member.account.email)) == 1
    assert len(audit_entries(owner, slug, "personal-token.leaked")) == 1


def test_reports_need_a_session_with_its_csrf_token_and_a_valid_body(scanning: World) -> None:
    world = scanning
    owner = world.session()
    slug = world.organization(owner)
    secret = world.organization_token(owner, slug, ["org:read"])
    assert_error(
        world.anonymous().post(PATH, json={"token": secret}), 401, "authentication-required"
    )
    personal = world.personal_token(owner, ["org:read"])
    assert_error(world.bearer(personal).post(PATH, json={"token": secret}), 403, "session-required")
    without_csrf = world.client()
    without_csrf.http.cookies = owner.http.cookies
    assert_error(without_csrf.post(PATH, json={"token": secret}), 403, "csrf-failed")
    assert error_fields(owner.post(PATH, json={"token": ""})) == ["token"]
    assert error_fields(owner.post(PATH, json={"token": secret, "extra": 1})) == ["extra"]
    assert error_fields(owner.post(PATH, json=[secret])) == ["body"]
    assert world.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200


def test_reports_are_limited_per_person(scanning: World) -> None:
    world = scanning
    reporter = world.session()
    for attempt in range(30):
        answered = reporter.post(PATH, json={"token": f"not a token {attempt}"})
        assert answered.status_code == 200, answered.text
    limited = reporter.post(PATH, json={"token": "one too many"})
    detail = assert_error(limited, 429, "rate-limited")
    assert int(limited.headers["Retry-After"]) == detail["extra"]["retry_after"] >= 1
    assert world.session().post(PATH, json={"token": "someone else"}).status_code == 200
