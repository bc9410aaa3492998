"""Guessing is limited: attempts are counted before they are checked, atomically, in the store,
so parallel requests and several worker processes share one allowance."""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.fastpath.test_workers import TOKENWARD
from tests.leakwatch import WATCH
from tests.support import (
    ON_POSTGRES,
    PASSWORD,
    ApiClient,
    World,
    assert_error,
    error_code,
    free_port,
    unique,
)
from tokenward import passwords

LOGIN = "/api/0/auth/login/"
WRONG = "not-the-password-" + "x" * 8
WATCH.password(WRONG)
_addresses = itertools.count(1)


def _address() -> str:
    """A client address of its own (uvicorn trusts X-Forwarded-For from loopback), so these
    tests never use up the allowance of 127.0.0.1 that other tests sign in from."""
    return f"10.{os.getpid() % 250}.{next(_addresses) // 250}.{next(_addresses) % 250}"


def _sign_in(base_url: str, email: str, address: str, password: str = WRONG) -> httpx.Response:
    # A new connection each time, so that several worker processes share the attempts.
    with httpx.Client(base_url=base_url, timeout=60) as client:
        return client.post(
            LOGIN,
            json={"email": email, "password": password},
            headers={"X-Forwarded-For": address},
        )


def _in_parallel(base_url: str, emails: list[str], address: str) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=len(emails)) as pool:
        return list(pool.map(lambda email: _sign_in(base_url, email, address), emails))


def _codes(responses: list[httpx.Response]) -> dict[str | None, int]:
    counted: dict[str | None, int] = {}
    for response in responses:
        code = error_code(response)
        counted[code] = counted.get(code, 0) + 1
    return counted


def test_login_is_rate_limited_per_email_and_failures_are_logged_without_password(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    account = world.user()
    address = _address()
    limit = world.server.app.state.login_throttle.limits.per_email
    with caplog.at_level(logging.WARNING, logger="tokenward.auth"):
        for _ in range(limit):
            response = _sign_in(world.server.url, account.email, address)
            assert error_code(response) == "invalid-credentials"
        blocked = _sign_in(world.server.url, account.email, _address(), PASSWORD)
    assert_error(blocked, 429, "rate-limited")
    assert int(blocked.headers["Retry-After"]) > 0
    failures = [r.getMessage() for r in caplog.records if "failed login" in r.getMessage()]
    assert len(failures) == limit
    assert all(account.email in line and WRONG not in line for line in failures)


def test_parallel_wrong_passwords_are_evaluated_at_most_the_limit(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    account = world.user()
    with caplog.at_level(logging.WARNING, logger="tokenward.auth"):
        responses = _in_parallel(world.server.url, [account.email] * 25, _address())
    assert _codes(responses) == {"invalid-credentials": 10, "rate-limited": 15}
    failures = [r for r in caplog.records if "failed login for user" in r.getMessage()]
    assert len([r for r in failures if account.email in r.getMessage()]) == 10
    # Successful sign-ins are given back: the right password still works from elsewhere later,
    # and a success never uses up the allowance of its address.
    address = _address()
    other = world.user()
    for _ in range(3):
        assert _sign_in(world.server.url, other.email, address, PASSWORD).status_code == 200


def _wait_for_workers(url: str, process: subprocess.Popen[bytes]) -> None:
    """Readiness only: four processes start slowly on a busy machine."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "exited")
        try:
            samples = [httpx.get(f"{url}/metrics", timeout=5).text for _ in range(12)]
            if all("tokenward_listener_connected 1.0" in text for text in samples):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError("tokenward serve --workers 4 did not come up")


@pytest.fixture(params=[ON_POSTGRES])
def four_workers(database_urls: dict[str, str], tmp_path: Path) -> Iterator[str]:
    if "postgresql" not in database_urls:
        pytest.fail("this test needs the PostgreSQL backend (TOKENWARD_TEST_BACKENDS)")
    port = free_port()
    env = {
        **os.environ,
        "TOKENWARD_DATABASE_URL": database_urls["postgresql"],
        "TOKENWARD_SECRET_KEY": "workers-" + unique("k"),
    }
    process = subprocess.Popen(
        # --proxy-headers: each test address counts on its own (X-Forwarded-For from loopback).
        [
            *(TOKENWARD, "serve", "--workers", "4", "--port", str(port)),
            *("--log-level", "warning", "--proxy-headers"),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_workers(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_limits_hold_in_total_across_four_worker_processes(four_workers: str) -> None:
    address = _address()
    one_email = [f"{unique('victim')}@example.com"] * 25
    assert _codes(_in_parallel(four_workers, one_email, address)) == {
        "invalid-credentials": 10,
        "rate-limited": 15,
    }
    # The same address, other emails: 30 failures per address in total, 10 already used.
    many_emails = [f"{unique('guess')}@example.com" for _ in range(30)]
    assert _codes(_in_parallel(four_workers, many_emails, address)) == {
        "invalid-credentials": 20,
        "rate-limited": 10,
    }


def _wrong_code(secret: str) -> str:
    totp = pyotp.TOTP(secret)
    return next(c for c in ("000000", "111111", "222222") if not totp.verify(c, valid_window=1))


def _guess(session: ApiClient, action: str, code: str, *, page: bool) -> httpx.Response:
    if page:
        return session.post(f"/settings/account/security/{action}/", data={"code": code})
    return session.post(f"/api/0/users/me/2fa/{action}/", json={"code": code})


def _assert_limited(response: httpx.Response, page: bool) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) > 0
    if not page:
        assert_error(response, 429, "rate-limited")


def test_second_factor_codes_are_limited_per_user_on_the_api_and_the_pages(world: World) -> None:
    session = world.session()
    setup = session.post("/api/0/users/me/2fa/setup/")
    assert setup.status_code == 201, setup.text
    secret = setup.json()["secret"]
    wrong = _wrong_code(secret)
    for attempt in range(10):
        refused = _guess(session, "confirm", wrong, page=attempt % 2 == 1)
        assert refused.status_code == 400, refused.text
    for page in (False, True):
        _assert_limited(_guess(session, "confirm", pyotp.TOTP(secret).now(), page=page), page)
    assert session.get("/api/0/users/me/2fa/").json() == {"enabled": False, "pending": True}

    enrolled = world.session()
    secret = enrolled.post("/api/0/users/me/2fa/setup/").json()["secret"]
    confirmed = _guess(enrolled, "confirm", pyotp.TOTP(secret).now(), page=False)
    assert confirmed.json() == {"enabled": True, "pending": False}  # a success is not counted
    wrong = _wrong_code(secret)
    for attempt in range(10):
        refused = _guess(enrolled, "remove", wrong, page=attempt % 2 == 0)
        assert refused.status_code == 400, refused.text
    for page in (True, False):
        _assert_limited(_guess(enrolled, "remove", pyotp.TOTP(secret).now(), page=page), page)
    assert enrolled.get("/api/0/users/me/2fa/").json()["enabled"] is True


class _HeldHasher:
    """Wraps the password hasher: verification waits until released, and counts who is inside."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.released = threading.Event()
        self.inside = 0
        self.most_inside = 0
        self.lock = threading.Lock()

    def verify(self, stored: str, password: str) -> bool:
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            self.released.wait(30)
            return bool(self.real.verify(stored, password))
        finally:
            with self.lock:
                self.inside -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_password_hashing_leaves_the_event_loop_free(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = world.session()
    token = world.bearer(world.personal_token(owner, ["org:read"]))
    held = _HeldHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", held)
    emails = [f"{unique('nobody')}@example.com" for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        pending = [pool.submit(_sign_in, world.server.url, email, _address()) for email in emails]
        try:
            deadline = time.monotonic() + 30
            while held.inside == 0:  # readiness: a verification has begun and is held
                assert time.monotonic() < deadline, "no sign-in reached the hasher"
                time.sleep(0.01)
            with httpx.Client(base_url=world.server.url, timeout=10) as quick:
                assert quick.get("/healthz").status_code == 200
            assert token.get("/api/0/organizations/").status_code == 200
        finally:
            held.released.set()
        assert [error_code(f.result()) for f in pending] == ["invalid-credentials"] * 4
    assert held.most_inside <= passwords.HASHING_THREADS
