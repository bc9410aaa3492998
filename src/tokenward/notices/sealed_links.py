"""Keys in emailed links that the store must never hold.

A queued notice keeps only a random seed in a placeholder; the key is HMAC-SHA256 of the seed
under the server's secret key, put into the text by the sender just before it leaves. The store
holds the seed and the key's SHA-256, neither of which yields the key without the secret key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

__all__ = ["derive_key", "new_seed", "sealed", "unseal"]

_PLACEHOLDER = re.compile(r"\{\{sealed:([A-Za-z0-9_-]{16,64})\}\}")


def new_seed() -> str:
    return secrets.token_urlsafe(24)


def derive_key(secret_key: str, seed: str) -> str:
    digest = hmac.new(
        secret_key.encode(), b"tokenward.sealed-link:" + seed.encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sealed(seed: str) -> str:
    """The placeholder a queued text carries where the key goes."""
    return "{{sealed:" + seed + "}}"


def unseal(text: str, secret_key: str) -> str:
    return _PLACEHOLDER.sub(lambda found: derive_key(secret_key, found.group(1)), text)
