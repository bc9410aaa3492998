"""The relying party's own checks, on ID tokens made here: signature, issuer, audience, expiry,
nonce."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

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
