"""A real local SMTP server (aiosmtpd) that keeps what it receives, for the notice tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller

from tests.support import free_port


@dataclass(frozen=True)
class ReceivedEmail:
    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str


class _Collector:
    def __init__(self) -> None:
        self.messages: list[ReceivedEmail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=default_policy)
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self.lock:
            self.messages.append(
                ReceivedEmail(
                    envelope.mail_from, tuple(envelope.rcpt_tos), str(parsed["Subject"]), text
                )
            )
        return "250 OK"


class Mailbox:
    def __init__(self) -> None:
        self.port = free_port()
        self._collector = _Collector()
        self._controller = Controller(self._collector, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> Mailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, recipient: str) -> list[ReceivedEmail]:
        with self._collector.lock:
            return [m for m in self._collector.messages if recipient in m.recipients]

    def wait_for(self, recipient: str, count: int = 1, seconds: float = 10) -> list[ReceivedEmail]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            received = self.to(recipient)
            if len(received) >= count:
                return received
            time.sleep(0.05)
        return self.to(recipient)

    @property
    def all(self) -> list[ReceivedEmail]:
        with self._collector.lock:
            return list(self._collector.messages)
