"""Every coded refusal Tokenward answers with, in one table. Imports nothing of ours.

A refusal answers ``{"detail": {"code", "message", "extra"}}`` with its HTTP status. The table
gives each code its status, a default message (callers usually say more), a description of when
it happens (the OpenAPI descriptions and the error table of ``docs/api.md``), and words for people
(how pages name it). A new refusal is a new member here plus a new branch where it is decided.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["STANDINGS", "Refusal"]


class Refusal(enum.StrEnum):
    """A refusal code. Members equal their strings, so ``code == "not-found"`` keeps working."""

    INVALID_REQUEST = "invalid-request"
    AUTHENTICATION_REQUIRED = "authentication-required"
    INVALID_CREDENTIALS = "invalid-credentials"
    TWO_FACTOR_CODE_REQUIRED = "2fa-code-required"
    INVALID_TWO_FACTOR_CODE = "invalid-2fa-code"
    INVALID_TOKEN = "invalid-token"
    TOKEN_EXPIRED = "token-expired"
    TWO_FACTOR_REQUIRED = "2fa-required"
    SSO_REQUIRED = "sso-required"
    INVALID_SIGNATURE = "invalid-signature"
    CSRF_FAILED = "csrf-failed"
    INSUFFICIENT_SCOPE = "insufficient-scope"
    SESSION_REQUIRED = "session-required"
    USER_REQUIRED = "user-required"
    FORBIDDEN = "forbidden"
    PERSONAL_TOKEN_REVOKED = "personal-token-revoked"
    PERSONAL_TOKEN_DENIED = "personal-token-denied"
    PERSONAL_TOKEN_LIFETIME_EXCEEDED = "personal-token-lifetime-exceeded"
    PERSONAL_TOKEN_SSO_UNAUTHORIZED = "personal-token-sso-unauthorized"
    ORGANIZATION_TOKEN_REQUIRED = "organization-token-required"
    NOT_FOUND = "not-found"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    REQUEST_TIMEOUT = "request-timeout"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload-too-large"
    RATE_LIMITED = "rate-limited"
    INTERNAL_ERROR = "internal-error"
    UNAVAILABLE = "unavailable"

    @property
    def status(self) -> int:
        return _TABLE[self].status

    @property
    def message(self) -> str:
        """The default message, for when the caller has nothing more precise to say."""
        return _TABLE[self].message

    @property
    def description(self) -> str:
        """When this refusal happens, for API documentation."""
        return _TABLE[self].description

    @property
    def words(self) -> str:
        """A short name for people, e.g. a personal token's standing on a page."""
        return _TABLE[self].words

    @property
    def explanation(self) -> str | None:
        """What an error page tells a person beyond the message, if anything."""
        return _TABLE[self].explanation


@dataclass(frozen=True, slots=True)
class _Entry:
    status: int
    message: str
    description: str
    words: str
    explanation: str | None = None


_TABLE: Mapping[Refusal, _Entry] = MappingProxyType(
    {
        Refusal.INVALID_REQUEST: _Entry(
            400,
            "The request is not valid.",
            "the body or query fails validation (also: JSON nested too deeply, unknown fields); "
            '`extra.errors` lists `{"field", "message"}`',
            "invalid request",
        ),
        Refusal.AUTHENTICATION_REQUIRED: _Entry(
            401,
            "Sign in, or send 'Authorization: Bearer <token>'.",
            "no credential on an endpoint that needs one",
            "sign-in required",
        ),
        Refusal.INVALID_CREDENTIALS: _Entry(
            401,
            "The email or password is not correct.",
            "sign-in with a wrong email or password",
            "wrong email or password",
        ),
        Refusal.TWO_FACTOR_CODE_REQUIRED: _Entry(
            401,
            "Two-factor authentication is on: send the code from your authenticator app as 'code'.",
            "sign-in with the right password by a user with two-factor authentication, "
            "without `code`",
            "authenticator code required",
        ),
        Refusal.INVALID_TWO_FACTOR_CODE: _Entry(
            401,
            "The authenticator code is not correct.",
            "sign-in with the right password and a wrong authenticator `code`",
            "wrong authenticator code",
        ),
        Refusal.INVALID_TOKEN: _Entry(
            401,
            "This token is not valid.",
            "malformed, bad checksum, unknown or revoked token",
            "invalid token",
        ),
        Refusal.TOKEN_EXPIRED: _Entry(
            401,
            "This token has expired; create a new one.",
            "the token's `expires_at` has passed",
            "token expired",
        ),
        Refusal.TWO_FACTOR_REQUIRED: _Entry(
            401,
            "This organization requires two-factor authentication.",
            "the organization requires two-factor authentication and this credential's user "
            "(for a session: its sign-in) has none",
            "two-factor required",
            "This organization requires two-factor authentication. Turn it on under "
            "Account security (/settings/account/security/), then come back.",
        ),
        Refusal.SSO_REQUIRED: _Entry(
            401,
            "This organization requires signing in through its identity provider.",
            "the organization requires SSO and this session did not sign in through its "
            "identity provider; `extra.loginUrl`",
            "single sign-on required",
        ),
        Refusal.INVALID_SIGNATURE: _Entry(
            401,
            "The signature of this report does not verify.",
            "a leaked-token report whose signature or key id does not verify",
            "invalid signature",
        ),
        Refusal.CSRF_FAILED: _Entry(
            403,
            "Missing or wrong X-CSRF-Token header for a session request.",
            "a session request without a valid `X-CSRF-Token`",
            "form expired",
            "This form was not sent from a Tokenward page, or it has expired. Go back, "
            "reload the page and try again.",
        ),
        Refusal.INSUFFICIENT_SCOPE: _Entry(
            403,
            "This credential lacks the scope this needs in this organization.",
            "the credential lacks the scope; `extra.required` names it",
            "insufficient scope",
            "Your role in this organization does not include this. Ask one of "
            "its managers or owners.",
        ),
        Refusal.SESSION_REQUIRED: _Entry(
            403,
            "This action needs a signed-in browser session; API tokens cannot perform it.",
            "a token was used where only a session is accepted",
            "browser session required",
            "These pages are for signed-in people. API tokens cannot use them.",
        ),
        Refusal.USER_REQUIRED: _Entry(
            403,
            "This endpoint is about a user; organization tokens have none.",
            "an organization token was used on an endpoint about a user",
            "user required",
        ),
        Refusal.FORBIDDEN: _Entry(
            403,
            "Your role in this organization does not allow this.",
            "the caller's role does not allow it; `extra.required_role`",
            "role too low",
        ),
        Refusal.PERSONAL_TOKEN_REVOKED: _Entry(
            403,
            "This token's access to the organization was revoked.",
            "an owner or manager revoked this personal token for this organization; "
            "`extra.organization`",
            "revoked here",
        ),
        Refusal.PERSONAL_TOKEN_DENIED: _Entry(
            403,
            "This organization does not allow personal API tokens.",
            "the organization denies personal tokens; `extra.organization`",
            "denied by policy",
        ),
        Refusal.PERSONAL_TOKEN_LIFETIME_EXCEEDED: _Entry(
            403,
            "This token may live longer than the organization allows.",
            "the token may live longer than the organization allows; `extra.organization`, "
            "`extra.max_lifetime_days`",
            "lifetime exceeded",
        ),
        Refusal.PERSONAL_TOKEN_SSO_UNAUTHORIZED: _Entry(
            403,
            "This token is not authorized for the organization's single sign-on.",
            "the organization requires SSO and this token was not authorized for it; "
            "`extra.authorizeUrl`, `extra.organization`, header `Tokenward-SSO: required; url=…`",
            "not authorized for single sign-on",
        ),
        Refusal.ORGANIZATION_TOKEN_REQUIRED: _Entry(
            403,
            "This endpoint is for the organization's own tokens.",
            "a session or personal token was used on an endpoint for the organization's own "
            "tokens (SCIM)",
            "organization token required",
        ),
        Refusal.NOT_FOUND: _Entry(
            404,
            "The requested resource does not exist.",
            "no such object, or the caller is not a member of its organization "
            "(existence is not revealed)",
            "not found",
            "There is no such page, or it belongs to an organization you are not a member of.",
        ),
        Refusal.METHOD_NOT_ALLOWED: _Entry(
            405,
            "This method is not allowed here.",
            "the path exists but not with this method; `Allow` lists those it has",
            "method not allowed",
        ),
        Refusal.REQUEST_TIMEOUT: _Entry(
            408,
            "The request body did not arrive in time.",
            "the request body did not arrive in time",
            "request too slow",
        ),
        Refusal.CONFLICT: _Entry(
            409,
            "The change conflicts with existing data.",
            "e.g. slug or email already taken, the last owner",
            "conflict",
        ),
        Refusal.PAYLOAD_TOO_LARGE: _Entry(
            413,
            "The request body is too large.",
            "the body is larger than allowed",
            "request too large",
        ),
        Refusal.RATE_LIMITED: _Entry(
            429,
            "Too many attempts; try again later.",
            "too many attempts (sign-in, second-factor codes, requests); "
            "`Retry-After` says when to retry",
            "too many attempts",
        ),
        Refusal.INTERNAL_ERROR: _Entry(
            500,
            "Something went wrong on our side; it has been logged.",
            "a fault of the service, never of the request; it is logged",
            "internal error",
        ),
        Refusal.UNAVAILABLE: _Entry(
            503,
            "The data store cannot be reached; try again shortly.",
            "the store (or, in gateway mode, the resolver) cannot be reached; nothing is "
            "allowed on a guess",
            "unavailable",
        ),
    }
)

# A personal token's standing in an organization, as the API names it, for each refusal of
# ``decide`` that can concern it. The page words of a standing are its refusal's ``words``.
STANDINGS: Mapping[Refusal, str] = MappingProxyType(
    {
        Refusal.PERSONAL_TOKEN_REVOKED: "revoked-here",
        Refusal.PERSONAL_TOKEN_DENIED: "denied-by-policy",
        Refusal.PERSONAL_TOKEN_LIFETIME_EXCEEDED: "lifetime-exceeded",
        Refusal.TWO_FACTOR_REQUIRED: "2fa-required",
        Refusal.PERSONAL_TOKEN_SSO_UNAUTHORIZED: "sso-unauthorized",
    }
)
