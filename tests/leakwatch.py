"""Watches the whole test run for leaked secrets: every response body the tests receive and every
log record emitted in this process are checked against every token and password issued."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field

import httpx

TOKEN_SHAPE = re.compile(r"tw[po]_[0-9A-Za-z]{49}")
_BROWSER_CALLBACK = "/auth/sso/callback/?"


@dataclass
class Leak:
    where: str
    what: str


@dataclass
class LeakWatch:
    passwords: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    # Other secrets by what they are: SSO client secrets, ID tokens, authorization codes.
    named: dict[str, str] = field(default_factory=dict)
    leaks: list[Leak] = field(default_factory=list)
    responses_seen: int = 0
    records_seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def password(self, password: str) -> None:
        with self._lock:
            self.passwords.add(password)

    def secret(self, value: str, what: str) -> None:
        """Watch for ``value`` in every response and log line from now on."""
        if len(value) >= 8:  # shorter strings would match by chance
            with self._lock:
                self.named[value] = what

    def _named_in(self, text: str) -> list[str]:
        return [what for value, what in self.named.items() if value in text]

    def response(self, response: httpx.Response) -> None:
        """Check a body; a body that issues a token (its ``token`` field) registers it instead."""
        response.read()
        text = response.text
        issued: str | None = None
        if '"token"' in text:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("token"), str):
                issued = body["token"]
        where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
        with self._lock:
            self.responses_seen += 1
            if issued is not None:
                self.tokens.add(issued)
            for found in TOKEN_SHAPE.findall(text):
                if found != issued:
                    self.leaks.append(Leak(where, f"token ending {found[-4:]}"))
            for password in self.passwords:
                if password in text:
                    self.leaks.append(Leak(where, "a password"))
            self.leaks.extend(Leak(where, what) for what in self._named_in(text))

    def record(self, message: str, logger: str) -> None:
        with self._lock:
            self.records_seen += 1
            if TOKEN_SHAPE.search(message):
                self.leaks.append(Leak(f"log {logger}", "a token-shaped string"))
            for password in self.passwords:
                if password in message:
                    self.leaks.append(Leak(f"log {logger}", "a password"))
            # The test's browser logs its own request for the callback, code and all; the
            # server never requests that page, so its log lines are still all watched.
            if not (logger == "httpx" and _BROWSER_CALLBACK in message):
                self.leaks.extend(Leak(f"log {logger}", what) for what in self._named_in(message))


class LeakWatchHandler(logging.Handler):
    def __init__(self, watch: LeakWatch) -> None:
        super().__init__(logging.DEBUG)
        self.watch = watch

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        self.watch.record(message, record.name)


WATCH = LeakWatch()
