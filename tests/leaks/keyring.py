"""A pretend secret scanner's signing keys, generated in the test run."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["SCANNER_PATH", "ScannerKeyring"]

SCANNER_PATH = "/api/0/secret-scanning/github/"


class ScannerKeyring:
    """Signing keys of a pretend scanner; the public halves go to the file Tokenward reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self.current = ""

    def add(self, key_id: str) -> None:
        self.keys[key_id] = ec.generate_private_key(ec.SECP256R1())
        self.current = key_id
        self.write()

    def remove(self, key_id: str) -> None:
        del self.keys[key_id]
        self.write()

    def write(self) -> None:
        public_keys = [
            {
                "key_identifier": key_id,
                "key": key.public_key()
                .public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                .decode(),
                "is_current": key_id == self.current,
            }
            for key_id, key in self.keys.items()
        ]
        staged = self.path.with_suffix(".tmp")
        staged.write_text(json.dumps({"public_keys": public_keys}))
        os.replace(staged, self.path)  # as a deployment would: never a half-written file

    def headers(
        self,
        body: bytes,
        key_id: str | None = None,
        key: ec.EllipticCurvePrivateKey | None = None,
    ) -> dict[str, str]:
        key_id = key_id or self.current
        signer = key or self.keys[key_id]
        signature = signer.sign(body, ec.ECDSA(hashes.SHA256()))
        return {
            "Github-Public-Key-Identifier": key_id,
            "Github-Public-Key-Signature": base64.b64encode(signature).decode(),
            "Content-Type": "application/json",
        }
