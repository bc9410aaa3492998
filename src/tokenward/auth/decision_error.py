"""A refusal of ``policy.decide`` as the coded error the client receives."""

from __future__ import annotations

from tokenward.errors import ApiError
from tokenward.policy import Decision

__all__ = ["SSO_HEADER", "raise_for"]

SSO_HEADER = "Tokenward-SSO"


def raise_for(decision: Decision) -> None:
    """Nothing when the decision allows; otherwise the ``ApiError`` it stands for."""
    if not decision.allowed:
        assert decision.code is not None
        headers = None
        authorize_url = decision.extra.get("authorizeUrl")
        if authorize_url is not None:
            # Clients that drop bodies still learn where to authorize the token.
            headers = {SSO_HEADER: f"required; url={authorize_url}"}
        raise ApiError(
            decision.status, decision.code, decision.message, decision.extra, headers=headers
        )
