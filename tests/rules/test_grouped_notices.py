"""Notices about settings changes are held a short while and go to each person as one email that
says where things ended up; security notices never wait; senders sharing a store never send one
notice twice (docs/operations.md, "Email notices")."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.mailbox import Mailbox
from tests.rules.conftest import queued_to
from tests.support import (
    ON_POSTGRES,
    ApiClient,
    LiveServer,
    World,
    eventually,
    postgres_database,
    running_server,
)
from tests.test_cli import tokenward
from tokenward.notices.outbox import enqueue
from tokenward.notices.sender import OutboxSender, SmtpSettings
from tokenward.store.engine import Store
from tokenward.store.migrate import upgrade

DELAY = 5.0  # seconds a notice is held: long enough for a test to make its changes in


@contextmanager
def own_database(backend: str, directory: Path) -> Iterator[str]:
    """A database no other test server sends from: each server seals links with its own key,
    so one must never send what another queued."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'notices.db'}"
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture(scope="module", params=["sqlite", ON_POSTGRES])
def grouping_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox
) -> Iterator[LiveServer]:
    with (
        own_database(request.param, tmp_path_factory.mktemp("grouped")) as url,
        running_server(
            url,
            smtp_url=mailbox.url,
            base_url="http://tokenward.test",
            usage_flush_seconds=0.1,
            outbox_interval_seconds=0.1,
            notice_delay_seconds=DELAY,
        ) as server,
    ):
        yield server


@pytest.fixture
def grouped(grouping_server: LiveServer) -> Iterator[World]:
    world = World(grouping_server)
    yield world
    world.close()


def _used_in(world: World, owner: ApiClient, secret: str, *slugs: str) -> None:
    """``secret`` acts on each organization, and its use is counted there."""
    for slug in slugs:
        assert world.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200
        usage = f"/api/0/organizations/{slug}/personal-token-usage/"

        def counted(path: str = usage) -> bool:
            tokens = owner.get(path).json()["tokens"]
            return any(t["token"]["token_last_characters"] == secret[-4:] for t in tokens)

        assert eventually(counted)


def _change(owner: ApiClient, slug: str, **settings: object) -> None:
    response = owner.put(f"/api/0/organizations/{slug}/", json={"settings": settings})
    assert response.status_code == 200, response.text


@pytest.mark.slow  # waits out the five-second delay
def test_five_changes_within_the_delay_make_one_email(grouped: World, mailbox: Mailbox) -> None:
    owner = grouped.session()
    first, second = grouped.organization(owner), grouped.organization(owner)
    alice = grouped.member(owner, first)
    grouped.add_member(owner, second, alice.account, "member")
    secret = grouped.personal_token(alice.session, ["org:read"])
    _used_in(grouped, owner, secret, first, second)

    started = time.monotonic()
    _change(owner, first, allow_personal_tokens=False)
    _change(owner, second, personal_token_max_lifetime_days=7)
    _change(owner, first, personal_token_max_lifetime_days=30)
    _change(owner, second, personal_token_enforcement="report")
    _change(owner, second, allow_personal_tokens=False)
    assert time.monotonic() - started < DELAY, "the changes took longer than the delay"
    assert mailbox.to(alice.account.email) == []  # held

    [email] = mailbox.wait_for(alice.account.email, seconds=DELAY + 15)
    assert time.monotonic() - started >= DELAY - 0.5
    assert email.subject.strip() == (  # a long subject is folded onto its own line
        f"[Tokenward] Changes in {first.title()} and {second.title()} that affect you"
    )
    one, two = email.body.split(f"\n2. {second.title()} changed")
    # Per organization: what changed, as it stands now; what it means; what to do.
    assert f"1. {first.title()} changed its personal token rules" in one
    assert "Personal API tokens: allowed → denied" in one
    assert "Maximum personal token lifetime: no limit → 30 days" in one
    assert "Nothing breaks yet" not in one
    assert "Maximum personal token lifetime: no limit → 7 days" in two
    assert "Enforcement: enforced → report only" in two
    assert "Personal API tokens: allowed → denied" in two
    assert "Nothing breaks yet" in two
    for text in (one, two):
        assert f"(ending …{secret[-4:]})" in text and "What to do instead" in text
    assert secret not in email.body and "{{sealed" not in email.body
    time.sleep(1.0)
    assert len(mailbox.to(alice.account.email)) == 1


@pytest.mark.slow  # waits out the five-second delay
def test_a_change_undone_within_the_delay_says_nothing(grouped: World, mailbox: Mailbox) -> None:
    owner = grouped.session()
    slug = grouped.organization(owner)
    bob, carol = grouped.member(owner, slug), grouped.member(owner, slug)
    for member in (bob, carol):
        _used_in(grouped, owner, grouped.personal_token(member.session, ["org:read"]), slug)

    _change(owner, slug, allow_personal_tokens=False)
    assert len(queued_to(grouped, bob.account.email)) == 1
    _change(owner, slug, allow_personal_tokens=True)
    assert queued_to(grouped, bob.account.email) == []  # back where bob was: nothing to tell

    # Latest wins: denied, limited, allowed again is a limit and nothing else.
    _change(owner, slug, allow_personal_tokens=False)
    _change(owner, slug, personal_token_max_lifetime_days=30)
    _change(owner, slug, allow_personal_tokens=True)
    [email] = mailbox.wait_for(carol.account.email, seconds=DELAY + 15)
    assert "Maximum personal token lifetime: no limit → 30 days" in email.body
    assert "denied" not in email.body
    assert email.subject.strip() == f"[Tokenward] {slug.title()} changed its personal token rules"
    [told_bob] = mailbox.wait_for(bob.account.email)
    assert "no limit → 30 days" in told_bob.body and "denied" not in told_bob.body


@pytest.mark.slow  # waits out the five-second delay
def test_a_security_notice_goes_at_once(grouped: World, mailbox: Mailbox) -> None:
    owner = grouped.session()
    slug = grouped.organization(owner)
    dana = grouped.member(owner, slug)
    secret = grouped.personal_token(dana.session, ["org:read"])
    _used_in(grouped, owner, secret, slug)
    _change(owner, slug, allow_personal_tokens=False)

    finder = grouped.login(grouped.user("Finder"))
    found_at = "https://pastebin.example/raw/grouped"
    reported = finder.post("/api/0/leaked-tokens/", json={"token": secret, "url": found_at})
    assert reported.status_code == 200, reported.text
    [urgent] = mailbox.wait_for(dana.account.email)
    assert urgent.subject == "[Tokenward] A leaked personal token was revoked"
    held = mailbox.wait_for(dana.account.email, count=2, seconds=DELAY + 15)
    assert [e.subject.strip() for e in held][1] == (
        f"[Tokenward] {slug.title()} changed its personal token rules"
    )


def test_the_outbox_command_shows_a_group_as_it_will_be_sent(
    grouped: World, tmp_path: Path
) -> None:
    owner = grouped.session()
    first, second = grouped.organization(owner), grouped.organization(owner)
    erin = grouped.member(owner, first)
    grouped.add_member(owner, second, erin.account, "member")
    _used_in(grouped, owner, grouped.personal_token(erin.session, ["org:read"]), first, second)
    _change(owner, first, allow_personal_tokens=False)
    _change(owner, second, allow_personal_tokens=False)
    url = grouped.server.settings.database_url.replace("+asyncpg", "").replace("+aiosqlite", "")

    shown = tokenward(tmp_path, url, "outbox", "--unsent", "--limit", "1")
    assert shown.returncode == 0, shown.stderr
    header, subject = shown.stdout.splitlines()[:2]
    assert f"to {erin.account.email} · org.personal-token-rules · not sent, goes at" in header
    assert "(notices #" in header and "in one email)" in header
    assert subject == (
        f"Subject: [Tokenward] Changes in {first.title()} and {second.title()} that affect you"
    )
    assert f"1. {first.title()} changed" in shown.stdout
    assert f"2. {second.title()} changed" in shown.stdout


def test_without_a_delay_each_change_is_sent_at_once(rules: World, mailbox: Mailbox) -> None:
    owner = rules.session()
    first, second = rules.organization(owner), rules.organization(owner)
    frank = rules.member(owner, first)
    rules.add_member(owner, second, frank.account, "member")
    _used_in(rules, owner, rules.personal_token(frank.session, ["org:read"]), first, second)
    _change(owner, first, allow_personal_tokens=False)
    _change(owner, second, allow_personal_tokens=False)
    received = mailbox.wait_for(frank.account.email, count=2)
    assert {e.subject.strip() for e in received} == {
        f"[Tokenward] {slug.title()} changed its personal token rules" for slug in (first, second)
    }
    assert len(received) == 2


async def _queue_groups(database_url: str, recipients: list[str], per_recipient: int) -> None:
    store = Store(database_url)
    try:
        await upgrade(store.engine)
        async with store.session() as db:
            for recipient in recipients:
                for number in range(per_recipient):
                    enqueue(
                        db,
                        recipient=recipient,
                        subject=f"[Tokenward] Change {number}",
                        body=f"Change {number} for you.\n",
                        kind="org.personal-token-rules",
                        topic=f"test:{number}",
                        state={"before": {}, "organization": f"Org{number}"},
                    )
            await db.commit()
    finally:
        await store.close()


async def _race(database_url: str, smtp: SmtpSettings, senders: int) -> int:
    """Several senders, each with its own connections, drain the outbox at the same time."""
    stores = [Store(database_url) for _ in range(senders)]

    async def drain(store: Store) -> int:
        sent, idle = 0, 0
        while idle < 3:
            just_sent = await OutboxSender(store, smtp).send_due()
            sent, idle = sent + just_sent, 0 if just_sent else idle + 1
        return sent

    try:
        return sum(await asyncio.gather(*(drain(store) for store in stores)))
    finally:
        for store in stores:
            await store.close()


@pytest.mark.parametrize("backend", ["sqlite", ON_POSTGRES])
def test_senders_sharing_a_store_send_each_group_once(
    mailbox: Mailbox, backend: str, tmp_path: Path
) -> None:
    recipients = [f"race-{uuid.uuid4().hex[:10]}@example.com" for _ in range(25)]
    smtp = SmtpSettings.from_url(mailbox.url, "Tokenward <tokenward@localhost>")
    with own_database(backend, tmp_path) as url:
        asyncio.run(_queue_groups(url, recipients, per_recipient=3))
        asyncio.run(_race(url, smtp, senders=4))
    for recipient in recipients:
        [email] = mailbox.wait_for(recipient)
        assert all(f"Change {n} for you." in email.body for n in range(3)), email.body
    assert all(len(mailbox.to(recipient)) == 1 for recipient in recipients)


@pytest.fixture
def two_processes(mailbox: Mailbox, tmp_path: Path) -> Iterator[tuple[World, World]]:
    settings = {
        "secret_key": uuid.uuid4().hex,
        "smtp_url": mailbox.url,
        "usage_flush_seconds": 0.1,
        "outbox_interval_seconds": 0.05,
        "notice_delay_seconds": 1.0,
    }
    with (
        own_database("postgresql", tmp_path) as url,
        running_server(url, **settings) as a,
        running_server(url, **settings) as b,
    ):
        worlds = (World(a), World(b))
        yield worlds
        for world in worlds:
            world.close()


@pytest.mark.postgres
def test_two_processes_on_postgres_send_each_person_one_email(
    two_processes: tuple[World, World], mailbox: Mailbox
) -> None:
    one, other = two_processes
    owner_account = one.user()
    owner_there, owner_here = one.login(owner_account), other.login(owner_account)
    slug = one.organization(owner_there)
    members = [one.member(owner_there, slug) for _ in range(6)]
    for member in members:
        secret = one.personal_token(member.session, ["org:read"])
        assert one.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200
    usage = f"/api/0/organizations/{slug}/personal-token-usage/"
    assert eventually(lambda: len(owner_there.get(usage).json()["tokens"]) == len(members))

    _change(owner_there, slug, allow_personal_tokens=False)
    _change(owner_here, slug, personal_token_max_lifetime_days=30)
    for member in members:
        [email] = mailbox.wait_for(member.account.email, seconds=20)
        assert "Personal API tokens: allowed → denied" in email.body
        assert "no limit → 30 days" in email.body
    time.sleep(1.5)
    assert all(len(mailbox.to(m.account.email)) == 1 for m in members)
