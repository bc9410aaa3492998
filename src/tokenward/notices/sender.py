"""The background sender: drains the outbox over SMTP, never on a request's time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from tokenward.notices.digest import Email, emails_of
from tokenward.notices.outbox import claim_due, mark_failed, mark_sent
from tokenward.notices.sealed_links import unseal
from tokenward.store.engine import Store
from tokenward.store.tables import OutgoingEmail

__all__ = ["OutboxSender", "SmtpSettings"]

log = logging.getLogger("tokenward.notices")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: bool = False  # smtps:// — TLS from the first byte
    starttls: bool = False  # smtp://…?starttls=true
    username: str | None = None
    password: str | None = None
    sender: str = "Tokenward <tokenward@localhost>"

    def __repr__(self) -> str:
        return f"SmtpSettings(host={self.host!r}, port={self.port}, tls={self.tls})"

    @classmethod
    def from_url(cls, url: str, sender: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("TOKENWARD_SMTP_URL must look like smtp://user:pass@host:port")
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            tls=tls,
            starttls="starttls=true" in parts.query.lower(),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender,
        )


def _send(settings: SmtpSettings, recipient: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if settings.tls else smtplib.SMTP
    with smtp_class(settings.host, settings.port, timeout=10) as client:
        if settings.starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.username and settings.password:
            client.login(settings.username, settings.password)
        client.send_message(message)


class OutboxSender:
    """Polls the outbox every ``interval`` seconds, or at once when woken by a new notice."""

    def __init__(
        self,
        store: Store,
        smtp: SmtpSettings | None,
        interval: float = 5.0,
        secret_key: str | None = None,
    ) -> None:
        self.store = store
        self.secret_key = secret_key  # to put keys into sealed links as they are sent
        self.smtp = smtp
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self.smtp is None:
            log.info("TOKENWARD_SMTP_URL is not set: notices are kept in the outbox, unsent")
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.send_due()
            except Exception as error:  # the loop must outlive a bad moment of the store
                log.warning("outbox pass failed: %s", type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()

    async def send_due(self) -> int:
        """Send what is due now; returns how many emails were sent.

        Messages are claimed in one short transaction and settled in another, so no database
        transaction stays open while an SMTP server takes its time. The notices of one email are
        settled together, and only while this pass's claim on them stands.
        """
        assert self.smtp is not None
        claim = uuid.uuid4().hex
        async with self.store.session() as db:
            emails = emails_of(await claim_due(db, claim))
            await db.commit()
        outcomes: list[tuple[Email, str | None]] = []
        for email in emails:
            body = email.notice.body
            if self.secret_key is not None:
                body = unseal(body, self.secret_key)
            try:
                await asyncio.to_thread(
                    _send, self.smtp, email.recipient, email.notice.subject, body
                )
            except Exception as error:  # any failure is this email's alone: record, go on
                log.warning("notice %s not sent yet: %s", email.ids[0], type(error).__name__)
                outcomes.append((email, f"{type(error).__name__}: {error}"))
            else:
                outcomes.append((email, None))
        if outcomes:
            async with self.store.session() as db:
                for email, failure in outcomes:
                    query = select(OutgoingEmail).where(
                        OutgoingEmail.id.in_(email.ids), OutgoingEmail.claim == claim
                    )
                    for settled in (await db.scalars(query)).all():
                        if failure is None:
                            mark_sent(settled)
                        else:
                            mark_failed(settled, failure)
                await db.commit()
        return sum(1 for _, failure in outcomes if failure is None)
