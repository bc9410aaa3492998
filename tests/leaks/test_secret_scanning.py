"""GitHub's secret-scanning partner program: signed reports revoke live tokens at once, label
every item, and tell the token's owner and the organizations it touched; anything unsigned or
signed by a key we do not hold changes nothing."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from tests.leaks.conftest import (
    leak,
    report_body,
    send_report,
    used_in,
)
from tests.leaks.keyring import SCANNER_PATH, ScannerKeyring
from tests.mailbox import Mailbox
from tests.support import ApiClient, World, assert_error, error_fields, eventually, run_async
from tokenward import credentials
from tokenward.store.engine import Store
from tokenward.store.tables import AuditLogEntry, OutgoingEmail

URL = "https://github.com/acme/app/blob/abc/.env"


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def _counts(database_url: str, recipients: list[str]) -> tuple[int, int]:
    """(emails queued for ``recipients``, leak audit entries): what a repeat must not grow."""
    store = Store(database_url)
    try:
        async with store.session() as db:
            emails = await db.scalar(
                select(func.count())
                .select_from(OutgoingEmail)
                .where(OutgoingEmail.recipient.in_(recipients))
            )
            audits = await db.scalar(
                select(func.count())
                .select_from(AuditLogEntry)
                .where(AuditLogEntry.event.in_(["personal-token.leaked", "org-token.leaked"]))
            )
            return int(emails or 0), int(audits or 0)
    finally:
        await store.close()


def audit_entries(owner: ApiClient, slug: str, event: str) -> list[dict[str, Any]]:
    response = owner.get(f"/api/0/organizations/{slug}/audit-logs/", params={"event": event})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def test_a_signed_report_revokes_live_tokens_labels_every_item_and_tells_the_owners(
    scanning: World, keyring: ScannerKeyring, leak_mailbox: Mailbox
) -> None:
    world = scanning
    owner_a_account = world.user("Owner A")
    owner_a = world.login(owner_a_account)
    used_here = world.organization(owner_a)
    member = world.member(owner_a, used_here)
    personal = world.personal_token(member.session, ["org:read"])
    assert world.bearer(personal).get(f"/api/0/organizations/{used_here}/").status_code == 200
    assert eventually(used_in(owner_a, used_here))
    # An organization the member belongs to but never used the token on is not told.
    owner_c = world.session()
    untouched = world.organization(owner_c)
    world.add_member(owner_c, untouched, member.account, "member")

    owner_b_account = world.user("Owner B")
    owner_b = world.login(owner_b_account)
    automation = world.organization(owner_b)
    organization_token = world.organization_token(owner_b, automation, ["org:read"])
    unknown = credentials.mint(credentials.TokenKind.PERSONAL).secret  # well-formed, not ours

    items = [
        leak(personal),
        leak(organization_token, "https://gist.github.com/x/1"),
        leak("twp_not-a-token"),
        leak(unknown),
    ]
    response = send_report(world.anonymous(), keyring, *items)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == [
        {"token_hash": sha256(item["token"]), "token_type": "tokenward_token", "label": label}
        for item, label in zip(
            items,
            ["true_positive", "true_positive", "false_positive", "false_positive"],
            strict=True,
        )
    ]
    for secret in (personal, organization_token):
        refused = world.bearer(secret).get("/api/0/organizations/")
        assert_error(refused, 401, "invalid-token")

    [entry] = audit_entries(owner_a, used_here, "personal-token.leaked")
    assert entry["data"]["url"] == URL and entry["data"]["source"] == "content"
    assert entry["data"]["email"] == member.account.email
    assert entry["actor"]["type"] == "system"
    assert audit_entries(owner_c, untouched, "personal-token.leaked") == []
    [entry] = audit_entries(owner_b, automation, "org-token.leaked")
    assert entry["data"]["url"] == "https://gist.github.com/x/1"

    [to_member] = leak_mailbox.wait_for(member.account.email)
    assert "Your personal API token" in to_member.body and URL in to_member.body
    assert used_here in to_member.body and untouched not in to_member.body
    [to_owner_a] = leak_mailbox.wait_for(owner_a_account.email)
    assert member.account.email in to_owner_a.body and URL in to_owner_a.body
    [to_owner_b] = leak_mailbox.wait_for(owner_b_account.email)
    assert "gist.github.com/x/1" in to_owner_b.body and automation in to_owner_b.body

    # The same report again: the same answer, and nobody is told twice.
    recipients = [member.account.email, owner_a_account.email, owner_b_account.email]
    before = run_async(_counts(world.server.settings.database_url, recipients))
    again = send_report(world.anonymous(), keyring, *items)
    assert again.status_code == 200 and again.json() == response.json()
    assert run_async(_counts(world.server.settings.database_url, recipients)) == before


def test_refused_signatures_change_nothing_and_log_one_line_without_the_body(
    scanning: World, keyring: ScannerKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    world = scanning
    owner = world.session()
    slug = world.organization(owner)
    secret = world.organization_token(owner, slug, ["org:read"])
    body = report_body(leak(secret))
    stranger = ec.generate_private_key(ec.SECP256R1())
    good = keyring.headers(body)
    tampered = body.replace(b"content", b"commits")
    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "wrong key": (body, keyring.headers(body, key=stranger)),
        "unknown key id": (body, {**good, "Github-Public-Key-Identifier": "no-such-key"}),
        "tampered body": (tampered, good),
        "no signature": (body, {"Content-Type": "application/json"}),
        "not base64": (body, {**good, "Github-Public-Key-Signature": "%%%"}),
        "not DER": (body, {**good, "Github-Public-Key-Signature": "AAAA"}),
    }
    client = world.anonymous()
    for name, (content, headers) in cases.items():
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="tokenward.secret_scanning"):
            response = client.post(SCANNER_PATH, content=content, headers=headers)
        assert_error(response, 401, "invalid-signature")
        lines = [r.getMessage() for r in caplog.records if r.name == "tokenward.secret_scanning"]
        assert len(lines) == 1, (name, lines)
        assert "refused" in lines[0] and secret not in lines[0] and "content" not in lines[0]
    assert world.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200
    assert audit_entries(owner, slug, "org-token.leaked") == []


def test_rotated_keys_are_read_without_a_restart(scanning: World, keyring: ScannerKeyring) -> None:
    world = scanning
    owner = world.session()
    slug = world.organization(owner)
    first, second = (world.organization_token(owner, slug, ["org:read"]) for _ in range(2))
    old = keyring.current
    old_key = keyring.keys[old]
    keyring.add(f"key-{uuid.uuid4().hex[:8]}")  # the new key is current; both are listed
    answered = send_report(world.anonymous(), keyring, leak(first))
    assert answered.status_code == 200 and answered.json()[0]["label"] == "true_positive"

    keyring.remove(old)  # the old key is withdrawn: what it signs is refused
    body = report_body(leak(second))
    refused = world.anonymous().post(
        SCANNER_PATH, content=body, headers=keyring.headers(body, key_id=old, key=old_key)
    )
    assert_error(refused, 401, "invalid-signature")
    assert world.bearer(second).get(f"/api/0/organizations/{slug}/").status_code == 200


def test_bodies_that_are_not_reports_are_400_after_the_signature(
    scanning: World, keyring: ScannerKeyring
) -> None:
    world = scanning
    owner = world.session()
    slug = world.organization(owner)
    secret = world.organization_token(owner, slug, ["org:read"])
    client = world.anonymous()
    bodies = {
        "body": b'{"token": "x"}',
        "1.token": json.dumps([leak(secret), {"type": "x"}]).encode(),
        "0.url": json.dumps([{**leak(secret), "url": 5}]).encode(),
    }
    for field, body in bodies.items():
        response = client.post(SCANNER_PATH, content=body, headers=keyring.headers(body))
        assert error_fields(response) == [field]
    too_many = report_body(*[leak(secret)] * 1001)
    response = client.post(SCANNER_PATH, content=too_many, headers=keyring.headers(too_many))
    assert error_fields(response) == ["body"]
    assert world.bearer(secret).get(f"/api/0/organizations/{slug}/").status_code == 200
    empty = report_body()
    response = client.post(SCANNER_PATH, content=empty, headers=keyring.headers(empty))
    assert response.status_code == 200 and response.json() == []


def test_without_a_key_file_there_is_no_such_endpoint(world: World) -> None:
    body = report_body(leak("twp_anything"))
    response = world.anonymous().post(SCANNER_PATH, content=body)
    assert_error(response, 404, "not-found")
