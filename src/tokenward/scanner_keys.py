"""The public keys secret scanners sign their reports with, and checking a report's signature.

The key file is GitHub's ``{"public_keys": [{"key_identifier", "key", "is_current"}]}``, keys in
PEM, ECDSA P-256; a signature is base64 DER ECDSA over the raw body with SHA-256. The file is read
again when it changes on disk, or when a report names a key id it does not hold (at most once per
``REREAD_SECONDS``, so that made-up key ids cannot turn every request into a file read): keys
rotate without a restart. A file that cannot be read keeps the keys last read.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

__all__ = ["REREAD_SECONDS", "ScannerKeys"]

log = logging.getLogger("tokenward.secret_scanning")

REREAD_SECONDS = 10.0
_MAX_FILE_BYTES = 1024 * 1024
_MAX_SIGNATURE_CHARACTERS = 512  # a P-256 DER signature is at most 72 bytes


def load_keys(raw: bytes) -> dict[str, ec.EllipticCurvePublicKey]:
    """The P-256 keys of a key file, by id; raises ``ValueError`` when the file is not one."""
    document = json.loads(raw)
    entries = document.get("public_keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the key file has no 'public_keys' list")
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        key_id, pem = entry.get("key_identifier"), entry.get("key")
        if not isinstance(key_id, str) or not isinstance(pem, str):
            continue
        try:
            key = load_pem_public_key(pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError, TypeError):
            log.warning("scanner key %r is not a PEM public key; skipped", key_id[:80])
            continue
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            log.warning("scanner key %r is not an ECDSA P-256 key; skipped", key_id[:80])
            continue
        keys[key_id] = key
    return keys


class ScannerKeys:
    """Keys read from ``path``; ``verify`` is thread-safe and meant to run off the event loop."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._stamp: tuple[int, int] | None = None
        self._forced_at = -REREAD_SECONDS

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            status = self.path.stat()
        except OSError:
            return None
        return status.st_mtime_ns, status.st_size

    def _read(self, stamp: tuple[int, int] | None) -> None:
        self._stamp = stamp
        try:
            with self.path.open("rb") as handle:
                raw = handle.read(_MAX_FILE_BYTES + 1)
            if len(raw) > _MAX_FILE_BYTES:
                raise ValueError("the key file is larger than 1 MiB")
            keys = load_keys(raw)
        except (OSError, ValueError) as error:
            log.warning(
                "cannot read the secret-scanning keys at %s (%s); keeping %d known keys",
                self.path,
                type(error).__name__,
                len(self._keys),
            )
            return
        self._keys = keys
        log.info("read %d secret-scanning keys from %s", len(keys), self.path)

    def key(self, key_id: str) -> ec.EllipticCurvePublicKey | None:
        with self._lock:
            stamp = self._file_stamp()
            if stamp != self._stamp:
                self._read(stamp)
            found = self._keys.get(key_id)
            now = self._clock()
            if found is None and now - self._forced_at >= REREAD_SECONDS:
                self._forced_at = now
                self._read(stamp)
                found = self._keys.get(key_id)
            return found

    def verify(self, key_id: str, signature: str, body: bytes) -> str | None:
        """None when ``signature`` by key ``key_id`` verifies ``body``; else why not."""
        if not key_id or not signature:
            return "missing signature headers"
        if len(signature) > _MAX_SIGNATURE_CHARACTERS:
            return "signature too long"
        try:
            der = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return "signature is not base64"
        key = self.key(key_id)
        if key is None:
            return "unknown key id"
        try:
            key.verify(der, body, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "signature does not verify"
        return None
