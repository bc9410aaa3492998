"""Scanner keys and the scanner's side of the token format, without a server."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.leaks.keyring import ScannerKeyring
from tokenward import credentials
from tokenward.scanner_keys import REREAD_SECONDS, ScannerKeys

DOCS = Path(__file__).resolve().parents[2] / "docs" / "secret-scanning.md"


def test_the_documented_scanner_code_finds_tokens_and_only_tokens() -> None:
    [code] = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation
    personal = credentials.mint(credentials.TokenKind.PERSONAL).secret
    organization = credentials.mint(credentials.TokenKind.ORGANIZATION).secret
    broken = personal[:-1] + ("A" if personal[-1] != "A" else "B")
    text = f"export A={personal}\nB='{organization}' C={broken} D=x{personal}"
    assert namespace["tokenward_tokens"](text) == [personal, organization]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _signed(ring: ScannerKeyring, body: bytes, key_id: str) -> tuple[str, str, bytes]:
    headers = ring.headers(body, key_id=key_id)
    return key_id, headers["Github-Public-Key-Signature"], body


def test_unknown_key_ids_reread_the_file_at_most_once_per_interval(tmp_path: Path) -> None:
    ring = ScannerKeyring(tmp_path / "keys.json")
    ring.add("one")
    clock = Clock()
    keys = ScannerKeys(ring.path, clock)
    assert keys.verify(*_signed(ring, b"[]", "one")) is None
    assert keys.verify(*_signed(ring, b"[]", "one")[:2], b"[1]") == "signature does not verify"
    # A made-up key id forces a re-read; the next one within the interval does not.
    assert keys.verify("made-up", "AAAA", b"[]") == "unknown key id"
    # The key is replaced by one of the same size, and the file's time put back: only a forced
    # re-read can find it (a copied file, or a clock too coarse to tell).
    before = ring.path.stat()
    ring.remove("one")
    ring.add("two")
    os.utime(ring.path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert ring.path.stat().st_size == before.st_size
    assert keys.verify(*_signed(ring, b"[]", "two")) == "unknown key id"
    clock.now += REREAD_SECONDS
    assert keys.verify(*_signed(ring, b"[]", "two")) is None


def test_a_broken_file_keeps_the_keys_read_last_and_odd_keys_are_skipped(tmp_path: Path) -> None:
    ring = ScannerKeyring(tmp_path / "keys.json")
    ring.add("good")
    keys = ScannerKeys(ring.path, Clock())
    assert keys.verify(*_signed(ring, b"{}", "good")) is None
    ring.path.write_text("{not json")
    assert keys.verify(*_signed(ring, b"{}", "good")) is None
    edwards = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    document = json.loads(
        json.dumps(
            {
                "public_keys": [
                    {"key_identifier": "edwards", "key": edwards},
                    {
                        "key_identifier": "garbage",
                        "key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
                    },
                    {"key_identifier": 5, "key": None},
                    "nonsense",
                ]
            }
        )
    )
    ring.path.write_text(json.dumps(document))
    assert keys.verify(*_signed(ring, b"{}", "good")) == "unknown key id"
    assert keys.verify("edwards", "AAAA", b"{}") == "unknown key id"
