"""Recovery from a lost authenticator: single-use recovery codes, and an operator's reset."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.leakwatch import WATCH
from tests.mailbox import Mailbox
from tests.rules.test_two_factor import enrol, login
from tests.support import PASSWORD, ApiClient, World, assert_error, eventually
from tests.test_cli import tokenward


def _sign_in(world: World, email: str, code: str | None) -> tuple[int, dict[str, Any]]:
    body = {"email": email, "password": PASSWORD}
    if code is not None:
        body["code"] = code
    response = world.anonymous().post("/api/0/auth/login/", json=body)
    return response.status_code, response.json()


def _events(owner: ApiClient, slug: str, event: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = owner.get(
        f"/api/0/organizations/{slug}/audit-logs/?event={event}"
    ).json()
    return entries


def test_a_recovery_code_signs_in_once_and_is_audited_and_emailed(
    rules: World, mailbox: Mailbox
) -> None:
    owner = rules.login(rules.user())
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    email = member.account.email
    assert_error(member.session.post("/api/0/users/me/2fa/recovery-codes/"), 409, "conflict")
    enrol(member.session)

    made = member.session.post("/api/0/users/me/2fa/recovery-codes/")
    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store"
    codes = made.json()["recovery_codes"]
    for code in codes:
        WATCH.password(code)  # never again in a response or a log line
    assert len(codes) == len(set(codes)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes)

    status, body = _sign_in(rules, email, "aaaaa-bbbbb")
    assert (status, body["detail"]["code"]) == (401, "invalid-2fa-code")
    status, _ = _sign_in(rules, email, codes[0].upper().replace("-", " - "))
    assert status == 200  # case and spacing forgiven
    status, body = _sign_in(rules, email, codes[0])
    assert (status, body["detail"]["code"]) == (401, "invalid-2fa-code")

    told = mailbox.wait_for(email)[0]
    assert "recovery code was used" in told.subject
    assert "9 unused recovery codes left" in told.body
    assert all(code not in told.body for code in codes)
    entries = _events(owner, slug, "user.recovery-code-used")
    assert len(entries) == 1
    assert entries[0]["data"]["email"] == email
    assert entries[0]["data"]["remaining"] == 9

    # New codes replace the old ones.
    fresh = member.session.post("/api/0/users/me/2fa/recovery-codes/").json()["recovery_codes"]
    for code in fresh:
        WATCH.password(code)
    status, _ = _sign_in(rules, email, codes[1])
    assert status == 401
    status, _ = _sign_in(rules, email, fresh[0])
    assert status == 200


@pytest.mark.slow  # the operator's command runs in a fresh interpreter
def test_an_operator_resets_a_lost_second_factor(
    rules: World, mailbox: Mailbox, tmp_path: Path
) -> None:
    owner = rules.login(rules.user())
    slug = rules.organization(owner)
    member = rules.member(owner, slug)
    email = member.account.email
    enrol(member.session)
    assert _sign_in(rules, email, None)[0] == 401
    url = rules.server.settings.database_url.replace("+asyncpg", "").replace("+aiosqlite", "")

    unknown = tokenward(tmp_path, url, "reset-2fa", "--email", f"{uuid.uuid4().hex}@example.com")
    assert unknown.returncode == 1 and "no user" in unknown.stderr
    reset = tokenward(tmp_path, url, "reset-2fa", "--email", email.upper())
    assert reset.returncode == 0, reset.stderr
    assert email in reset.stdout

    assert eventually(lambda: _sign_in(rules, email, None)[0] == 200)
    session = login(rules, member.account, None)
    assert session.get("/api/0/users/me/2fa/").json() == {"enabled": False, "pending": False}
    told = mailbox.wait_for(email)[0]
    assert "Two-factor authentication was removed" in told.subject
    entries = _events(owner, slug, "user.2fa-reset")
    assert [entry["actor"]["name"] for entry in entries] == ["tokenward reset-2fa"]

    # Without SMTP an operator reads the notices from the outbox; no secret in them.
    outbox = tokenward(tmp_path, url, "outbox", "--limit", "50")
    assert outbox.returncode == 0, outbox.stderr
    assert f"to {email}" in outbox.stdout
    assert "Subject: [Tokenward] Two-factor authentication was removed" in outbox.stdout
    assert "Traceback" not in outbox.stderr
