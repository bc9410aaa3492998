"""Watches the whole test run for leaked secrets.

Every response the tests receive (body and headers, over httpx and in the browser), every log
record created in this process (uvicorn's own loggers included, whether or not they propagate) and
the logs of servers started as subprocesses are searched for every secret issued in the run:
tokens, passwords, TOTP secrets, and whatever else a test registers with ``WATCH.secret``. Secrets
are matched exactly, wherever they sit in the text; a token-shaped string nobody issued is a leak
too. A secret may appear only in the response that issues it.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

TOKEN_SHAPE = re.compile(r"tw[po]_[0-9A-Za-z]{49}")
_BROWSER_CALLBACK = "/auth/sso/callback/?"
_INVITATION_LINK = "/accept-invite/"
_ENROLMENT_PAGE = "/settings/account/security/"

# JSON fields of a response that issue a secret, and what kind of secret each holds.
ISSUING_FIELDS = {"token": "token", "secret": "TOTP secret"}

# Secrets are indexed by their first characters, so a text is searched in one pass whatever the
# number of secrets issued so far.
_PREFIX = 8


@dataclass
class Leak:
    where: str
    what: str


@dataclass
class Canary:
    """A made-up secret for testing the watch itself: where it was seen, instead of a leak."""

    value: str
    seen: list[str] = field(default_factory=list)


@dataclass
class LeakWatch:
    passwords: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    leaks: list[Leak] = field(default_factory=list)
    responses_seen: int = 0
    records_seen: int = 0
    _by_prefix: dict[str, dict[str, str]] = field(default_factory=dict)
    _short: dict[str, str] = field(default_factory=dict)
    _canaries: dict[str, Canary] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def secret(self, value: str, kind: str) -> str:
        """Watch for ``value`` from now on; ``kind`` names it in a leak report. Returns what is
        searched for: a token without its public prefix, so a stripped token is caught too."""
        key = value[4:] if kind == "token" and TOKEN_SHAPE.fullmatch(value) else value
        if not key:
            return key
        with self._lock:
            if len(key) < _PREFIX:
                self._short[key] = kind
            else:
                self._by_prefix.setdefault(key[:_PREFIX], {})[key] = kind
            if kind == "password":
                self.passwords.add(value)
            elif kind == "token":
                self.tokens.add(value)
        return key

    def password(self, password: str) -> None:
        self.secret(password, "password")

    @contextmanager
    def canary(self) -> Iterator[Canary]:
        canary = Canary(f"canary{uuid.uuid4().hex}")
        with self._lock:
            self._canaries[canary.value] = canary
            self.secret(canary.value, "canary")
        try:
            yield canary
        finally:
            with self._lock:
                del self._canaries[canary.value]

    def _found(self, text: str) -> dict[str, str]:
        found = {value: kind for value, kind in self._short.items() if value in text}
        if len(text) >= _PREFIX and self._by_prefix:
            windows = {text[i : i + _PREFIX] for i in range(len(text) - _PREFIX + 1)}
            for prefix in windows & self._by_prefix.keys():
                for value, kind in self._by_prefix[prefix].items():
                    if value in text:
                        found[value] = kind
        return found

    def check(self, text: str, where: str, issued: frozenset[str] = frozenset()) -> None:
        """Search ``text`` for secrets; those in ``issued`` are being issued by it."""
        with self._lock:
            found = self._found(text)
            for value, kind in found.items():
                if value in issued:
                    continue
                if value in self._canaries:
                    self._canaries[value].seen.append(where)
                else:
                    self.leaks.append(Leak(where, f"{kind} ending {value[-4:]}"))
            for shaped in TOKEN_SHAPE.findall(text):
                if shaped[4:] not in issued and shaped[4:] not in found:
                    self.leaks.append(Leak(where, f"token-shaped string ending {shaped[-4:]}"))

    def issue(self, values: Mapping[str, str]) -> frozenset[str]:
        """Register secrets issued by a response (value -> kind); returns what is searched for."""
        return frozenset(self.secret(value, kind) for value, kind in values.items())

    def response(self, response: httpx.Response) -> None:
        """Check a body and its headers; a body that issues a secret registers it instead."""
        response.read()
        text = response.text
        issuing: dict[str, str] = {}
        if any(f'"{name}"' in text for name in ISSUING_FIELDS):
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                for name, kind in ISSUING_FIELDS.items():
                    if isinstance(body.get(name), str):
                        issuing[body[name]] = kind
        where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
        with self._lock:
            self.responses_seen += 1
            if response.request.url.path.startswith(_ENROLMENT_PAGE):
                # Until it is confirmed, the page shows its owner the pending authenticator
                # secret again (a retry after a wrong code needs it); nowhere else may.
                pending = self._found(text)
                issuing.update({v: k for v, k in pending.items() if k == "TOTP secret"})
        issued = self.issue(issuing)
        self.check(text, where, issued)
        self.check(_headers_text(response.headers.multi_items()), f"{where} (headers)")

    def browser_response(
        self, method: str, url: str, status: int, headers: Mapping[str, str], body: str
    ) -> None:
        """A response the browser received. A page that shows a new token issues it: the first
        response showing a token-shaped string registers it, any later one is a leak."""
        where = f"browser {method} {url} -> {status}"
        with self._lock:
            self.responses_seen += 1
            new = {t: "token" for t in TOKEN_SHAPE.findall(body) if not self._found(t)}
        self.check(body, where, self.issue(new))
        self.check(_headers_text(headers.items()), f"{where} (headers)")

    def record(self, message: str, logger: str) -> None:
        with self._lock:
            self.records_seen += 1
        # The test's client logs its own requests for the SSO callback (code and all) and for
        # invitation links (key and all); the server never requests those pages, so its log
        # lines are still all watched.
        if logger == "httpx" and (_BROWSER_CALLBACK in message or _INVITATION_LINK in message):
            return
        self.check(message, f"log {logger}")

    def log_file(self, path: Path, where: str) -> None:
        """The log of a server run as a subprocess, line by line."""
        text = path.read_text(errors="replace") if path.exists() else ""
        self.log_text(text, where)

    def log_text(self, text: str, where: str) -> None:
        for number, line in enumerate(text.splitlines(), 1):
            with self._lock:
                self.records_seen += 1
            self.check(line, f"{where} line {number}")


def _headers_text(items: Any) -> str:
    return "\n".join(f"{name}: {value}" for name, value in items)


class LeakWatchHandler(logging.Handler):
    def __init__(self, watch: LeakWatch) -> None:
        super().__init__(logging.DEBUG)
        self.watch = watch

    def emit(self, record: logging.LogRecord) -> None:
        self.watch.record(_message(record), record.name)


def _message(record: logging.LogRecord) -> str:
    message = record.getMessage()
    if record.exc_info:
        message += "\n" + logging.Formatter().formatException(record.exc_info)
    return message


@contextmanager
def watching_every_log_record(watch: LeakWatch) -> Iterator[None]:
    """Every record handled in this process, whichever logger and handlers it goes to (uvicorn's
    ``uvicorn.error`` and ``uvicorn.access`` do not propagate to the root logger), as its
    logger's filters leave it: what a handler would write, redactions included."""
    original = logging.Logger.callHandlers

    def call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
        # A record whose message cannot be formatted fails where it is handled, not here.
        with suppress(Exception):
            watch.record(_message(record), record.name)
        original(self, record)

    logging.Logger.callHandlers = call_handlers  # type: ignore[method-assign]
    try:
        yield
    finally:
        logging.Logger.callHandlers = original  # type: ignore[method-assign]


WATCH = LeakWatch()
