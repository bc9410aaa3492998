"""Sending never blocks or fails the request that caused it: with a mail server that hangs, the
notice waits in the outbox and is retried later."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support import World, eventually, run_async, running_server
from tokenward.store.engine import Store
from tokenward.store.tables import OutgoingEmail

HANG = 60.0  # seconds: only a hang fails; no speed is asserted here


class HeldMailServer:
    """A mail server that accepts connections and says nothing until released, then hangs up:
    while held, a send cannot finish, so whatever waits on one waits on us."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.released = threading.Event()
        self.connections = 0
        self.finished_by_client = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._hold, args=(connection,), daemon=True).start()

    def _hold(self, connection: socket.socket) -> None:
        connection.settimeout(0.05)
        with connection:
            while not self.released.is_set():
                try:
                    if connection.recv(1024) == b"":  # the client gave up first
                        with self._lock:
                            self.finished_by_client += 1
                        return
                except TimeoutError:
                    continue

    def close(self) -> None:
        self.released.set()
        self.listener.close()


@pytest.fixture
def held_smtp(tmp_path: Path) -> Iterator[tuple[World, HeldMailServer]]:
    """A server alone on its database: any other server's sender would send its notice."""
    mail = HeldMailServer()
    with running_server(
        f"sqlite+aiosqlite:///{tmp_path / 'held.db'}",
        smtp_url=f"smtp://127.0.0.1:{mail.port}",
        usage_flush_seconds=0.1,
        outbox_interval_seconds=0.1,
    ) as server:
        world = World(server)
        yield world, mail
        world.close()
    mail.close()


async def _emails_to(database_url: str, recipient: str) -> list[tuple[int, str | None, bool]]:
    store = Store(database_url)
    try:
        async with store.session() as db:
            rows = await db.scalars(
                select(OutgoingEmail).where(OutgoingEmail.recipient == recipient)
            )
            return [(m.attempts, m.last_error, m.sent_at is not None) for m in rows]
    finally:
        await store.close()


def test_a_mail_server_that_hangs_delays_notices_but_never_the_request(
    held_smtp: tuple[World, HeldMailServer],
) -> None:
    world, mail = held_smtp
    owner = world.session()
    slug = world.organization(owner)
    member = world.member(owner, slug)
    secret = world.personal_token(member.session, ["org:read"])
    assert world.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200
    usage = f"/api/0/organizations/{slug}/personal-token-usage/"
    assert eventually(lambda: len(owner.get(usage).json()["tokens"]) == 1)

    flipped = owner.put(
        f"/api/0/organizations/{slug}/", json={"settings": {"allow_personal_tokens": False}}
    )
    # The answer came while no send could have finished: the mail server is still held.
    assert flipped.status_code == 200
    assert not mail.released.is_set() and mail.finished_by_client == 0
    database_url = world.server.settings.database_url
    assert run_async(_emails_to(database_url, member.account.email)) == [(0, None, False)]
    # The outbox does try, after the answer: it is connected to the held server.
    assert eventually(lambda: mail.connections >= 1, seconds=HANG)
    mail.released.set()

    def tried_and_kept() -> bool:
        emails = run_async(_emails_to(database_url, member.account.email))
        return len(emails) == 1 and emails[0][0] >= 1 and not emails[0][2]

    assert eventually(tried_and_kept, seconds=HANG)
    _, error, sent = run_async(_emails_to(database_url, member.account.email))[0]
    assert error and "SMTP" in error and not sent
