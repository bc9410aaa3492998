"""Which issuer URLs an organization may configure."""

from __future__ import annotations

import pytest

from tokenward.oidc.provider import issuer_problem


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
