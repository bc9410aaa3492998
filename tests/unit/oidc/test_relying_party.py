"""The relying party's own checks, on ID tokens made here: signature, issuer, audience, expiry,
nonce; issuer URLs; and the access-log redaction of the callback's query."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tokenward.http.log_redaction import SsoCallbackRedaction
from tokenward.oidc.provider import issuer_problem
from tokenward.oidc.relying_party import SignInRefused, check_id_token, identity_of

ISSUER, CLIENT, NONCE = "https://idp.example.com", "tokenward", "n-0123456789"
KEY = RSAKey.generate_key(2048)
KEYS = KeySet([KEY])


def _token(key: RSAKey = KEY, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": [CLIENT],
        "sub": "s1",
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
        "email": "A@Example.com",
        "email_verified": True,
    }
    claims.update(changes)
    return jwt.encode({"alg": "RS256"}, {k: v for k, v in claims.items() if v is not None}, key)


def _check(token: str) -> dict[str, Any]:
    return check_id_token(token, KEYS, issuer=ISSUER, client_id=CLIENT, nonce=NONCE)


def test_a_good_id_token_gives_its_identity() -> None:
    identity = identity_of(_check(_token()))
    assert (identity.subject, identity.email, identity.email_verified) == (
        "s1",
        "a@example.com",
        True,
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "https://evil.example.com"}, "iss"),
        ({"aud": ["another-client"]}, "aud"),
        ({"aud": [CLIENT, "another-client"]}, "another client"),
        ({"exp": int(time.time()) - 600}, "expired"),
        ({"nonce": "n-replayed-one"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"sub": None}, "sub"),
    ],
)
def test_foreign_expired_or_replayed_id_tokens_are_refused(
    changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(SignInRefused, match=reason):
        _check(_token(**changes))


def test_a_token_signed_by_another_key_is_refused() -> None:
    with pytest.raises(SignInRefused, match="signature"):
        _check(_token(RSAKey.generate_key(2048)))
    with pytest.raises(SignInRefused, match="signature"):
        _check(_token() + "x")


def test_unverified_or_missing_email() -> None:
    assert identity_of(_check(_token(email_verified=False))).email_verified is False
    assert identity_of(_check(_token(email_verified="true"))).email_verified is False
    with pytest.raises(SignInRefused, match="email"):
        identity_of(_check(_token(email=None)))


@pytest.mark.parametrize(
    ("issuer", "accepted"),
    [
        ("https://idp.example.com", True),
        ("https://idp.example.com/tenant/v2.0", True),
        ("http://localhost:8080", True),
        ("http://127.0.0.5:9000", True),
        ("http://[::1]:9000", True),
        ("http://idp.example.com", False),
        ("http://localhost.example.com", False),
        ("ftp://idp.example.com", False),
        ("https://idp.example.com/?tenant=1", False),
        ("https://user:pw@idp.example.com", False),
        ("idp.example.com", False),
        ("https://[::1", False),
    ],
)
def test_issuer_urls(issuer: str, accepted: bool) -> None:
    assert (issuer_problem(issuer) is None) is accepted


def test_access_log_lines_of_the_callback_lose_their_query() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/auth/sso/callback/?code=SECRETCODE&state=S", "1.1", 303),
        None,
    )
    assert SsoCallbackRedaction().filter(record)
    assert "SECRETCODE" not in record.getMessage() and "[redacted]" in record.getMessage()
    other = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s", ("a", "GET", "/x/?y=1"), None
    )
    SsoCallbackRedaction().filter(other)
    assert other.getMessage() == "a GET /x/?y=1"
