"""Hostile input to the leak-report endpoints: a coded 4xx or an honest answer, never a 5xx, and
nothing of what was sent comes back but its hash and a printable type."""

from __future__ import annotations

import json

from tests.leaks.conftest import report_body
from tests.leaks.keyring import SCANNER_PATH, ScannerKeyring
from tests.support import World, assert_error, error_fields


def test_odd_but_signed_scanner_bodies_are_answered_or_refused_cleanly(
    scanning: World, keyring: ScannerKeyring
) -> None:
    client = scanning.anonymous()
    odd_items = [
        {"token": "\ud800twp_", "type": "t\x00y\ud800pe", "url": "\x00\n", "source": "\u202e"},
        {"token": "two_" + "é" * 49, "type": "x" * 5000, "url": "u" * 100_000},
        {"token": "twp_" + "0" * 49},
    ]
    body = json.dumps(odd_items).encode()  # ASCII escapes: lone surrogates survive as \ud800
    response = client.post(SCANNER_PATH, content=body, headers=keyring.headers(body))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [item["label"] for item in answer] == ["false_positive"] * 3
    assert answer[0]["token_type"] == "type" and len(answer[1]["token_type"]) == 200
    for body in (b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe", b"null", b'[["twp_"]]'):
        refused = client.post(SCANNER_PATH, content=body, headers=keyring.headers(body))
        assert refused.status_code == 400, refused.text
        assert_error(refused, 400, "invalid-request")


def test_odd_signature_headers_are_invalid_signatures(
    scanning: World, keyring: ScannerKeyring
) -> None:
    client = scanning.anonymous()
    body = report_body({"token": "twp_x"})
    good = keyring.headers(body)
    for name, value in (
        ("Github-Public-Key-Identifier", "é€".encode()),
        ("Github-Public-Key-Identifier", b"k" * 8000),
        ("Github-Public-Key-Signature", b"A" * 8000),
        ("Github-Public-Key-Signature", "MEUCIQ==\xff".encode("latin-1")),
    ):
        headers = {**good, name: value}
        response = client.post(SCANNER_PATH, content=body, headers=headers)
        assert_error(response, 401, "invalid-signature")


def test_odd_strings_reported_by_people_get_an_answer_or_a_coded_400(scanning: World) -> None:
    reporter = scanning.session()
    path = "/api/0/leaked-tokens/"
    answered = reporter.post(path, json={"token": "\u202e twp_ é\n", "url": "\u202e\n\x7f"})
    assert answered.status_code == 200 and answered.json()["label"] == "false_positive"
    surrogates = reporter.post(
        path,
        content=b'{"token": "\\ud800\\udfff\\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert error_fields(surrogates) == ["token"]
    assert error_fields(reporter.post(path, json={"token": "twp_\x00"})) == ["body"]
    assert error_fields(reporter.post(path, json={"token": "x" * 1001})) == ["token"]
    assert error_fields(reporter.post(path, json={"token": 5})) == ["token"]
