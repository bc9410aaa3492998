"""Browser sessions: the signed cookie that carries a random key, and the CSRF token bound to it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, Signer

__all__ = ["COOKIE_NAME", "SessionCookies", "hash_session_key"]

COOKIE_NAME = "tokenward_session"
_MAX_COOKIE_LENGTH = 512


def hash_session_key(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


class SessionCookies:
    """Signs session keys into cookie values and derives each session's CSRF token."""

    def __init__(self, secret_key: str) -> None:
        self._signer = Signer(secret_key, salt="tokenward.session")
        self._csrf_key = hashlib.sha256(b"tokenward.csrf:" + secret_key.encode()).digest()

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)

    def cookie_value(self, key: str) -> str:
        return self._signer.sign(key).decode("ascii")

    def key_from_cookie(self, value: str) -> str | None:
        """The session key, or None when the cookie was not signed by us."""
        if not value or len(value) > _MAX_COOKIE_LENGTH or not value.isascii():
            return None
        try:
            return self._signer.unsign(value).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None

    def csrf_token(self, key: str) -> str:
        digest = hmac.new(self._csrf_key, key.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def csrf_matches(self, key: str, given: str | None) -> bool:
        if given is None or not given.isascii():
            return False
        return hmac.compare_digest(self.csrf_token(key), given)
