"""What a client may send: request bodies and their field types, validated the same way for the
API's JSON and the pages' forms (``web.forms.validated``), and how a refusal of one reads.
Requests are validated after the gate (``api.bodies``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tokenward.errors import ApiError
from tokenward.policy import ALL_SCOPES
from tokenward.store.tables import SLUG_PATTERN

__all__ = [
    "REQUEST_MODELS",
    "SSO_REQUEST_MODELS",
    "Email",
    "LoginRequest",
    "MemberCreate",
    "MemberUpdate",
    "OrganizationCreate",
    "OrganizationTokenCreate",
    "OrganizationUpdate",
    "PersonalTokenCreate",
    "ProjectCreate",
    "ProjectUpdate",
    "RoleName",
    "SettingsUpdate",
    "SsoAuthorizationRequest",
    "SsoConfigurationUpdate",
    "TwoFactorCode",
    "invalid_request",
    "validation_errors",
]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def _no_control_characters(value: str) -> str:
    # Names end up in email subjects and log lines, where a line break would forge a header.
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise ValueError("may not contain control characters such as line breaks")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(json_schema_extra={"pattern": r"\S"}),  # what is left after stripping may not be empty
    AfterValidator(_no_control_characters),
]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=SLUG_PATTERN)]
# Organization pages live at /settings/{org}/, beside the user's own /settings/account/.
RESERVED_ORGANIZATION_SLUGS = frozenset({"account"})


def _check_not_reserved(value: str) -> str:
    if value in RESERVED_ORGANIZATION_SLUGS:
        raise PydanticCustomError(
            "reserved_slug", "'{slug}' is reserved; choose another slug.", {"slug": value}
        )
    return value


OrganizationSlug = Annotated[Slug, AfterValidator(_check_not_reserved)]
RoleName = Literal["member", "manager", "owner"]


def _check_email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("must be a valid email address")
    return value


def _check_scopes(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - ALL_SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    if not values:
        raise ValueError("at least one scope is required")
    return sorted(set(values))


def _check_future(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a time zone, e.g. 2030-01-01T00:00:00Z")
    try:
        value = value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("lies too far in the future") from None
    if value <= dt.datetime.now(dt.UTC):
        raise ValueError("must lie in the future")
    return value


Email = Annotated[
    str,
    AfterValidator(_check_email),
    Field(json_schema_extra={"format": "email", "maxLength": 254}),
]
ScopeName = Annotated[str, Field(max_length=50, json_schema_extra={"enum": sorted(ALL_SCOPES)})]
Scopes = Annotated[
    list[ScopeName], AfterValidator(_check_scopes), Field(json_schema_extra={"minItems": 1})
]
FutureTime = Annotated[dt.datetime | None, AfterValidator(_check_future)]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=1000)


class LoginRequest(RequestBody):
    email: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    code: Annotated[str, StringConstraints(max_length=20)] | None = Field(
        default=None,
        description="The authenticator code, or a recovery code, when two-factor "
        "authentication is on.",
    )


class PersonalTokenCreate(RequestBody):
    name: Name
    scopes: Scopes
    expires_at: FutureTime = None


class OrganizationTokenCreate(RequestBody):
    name: Name
    scopes: Scopes
    expires_at: FutureTime = None


class OrganizationCreate(RequestBody):
    slug: OrganizationSlug
    name: Name


class SettingsUpdate(RequestBody):
    allow_personal_tokens: bool | None = None
    personal_token_enforcement: Literal["enforce", "report"] | None = None
    personal_token_max_lifetime_days: Annotated[int, Field(ge=1, le=3650)] | None = Field(
        default=None, description="null removes the limit."
    )
    require_2fa: bool | None = None
    require_sso: bool | None = None

    @model_validator(mode="after")
    def _only_the_limit_may_be_null(self) -> SettingsUpdate:
        for name in (
            "allow_personal_tokens",
            "personal_token_enforcement",
            "require_2fa",
            "require_sso",
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


class OrganizationUpdate(RequestBody):
    name: Name | None = None
    settings: SettingsUpdate | None = None


class MemberCreate(RequestBody):
    email: Email
    role: RoleName


class MemberUpdate(RequestBody):
    role: RoleName


class ProjectCreate(RequestBody):
    slug: Slug
    name: Name


class ProjectUpdate(RequestBody):
    name: Name


class TwoFactorCode(RequestBody):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=10)]


REQUEST_MODELS: tuple[type[RequestBody], ...] = (
    LoginRequest,
    PersonalTokenCreate,
    OrganizationTokenCreate,
    OrganizationCreate,
    SettingsUpdate,
    OrganizationUpdate,
    MemberCreate,
    MemberUpdate,
    ProjectCreate,
    ProjectUpdate,
    TwoFactorCode,
)


# SSO

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _domain(value: str) -> str:
    value = value.strip().lower()
    if not _DOMAIN.match(value):
        raise ValueError("must be a domain name such as example.com")
    return value


def _printable(value: str) -> str:
    if any(ord(character) < 33 or ord(character) == 127 for character in value):
        raise ValueError("may not contain spaces or control characters")
    return value


Printable = Annotated[str, AfterValidator(_printable)]


class SsoConfigurationUpdate(RequestBody):
    issuer: Annotated[Printable, StringConstraints(min_length=1, max_length=500)]
    client_id: Annotated[Printable, StringConstraints(min_length=1, max_length=255)]
    client_secret: Annotated[Printable, StringConstraints(min_length=1, max_length=1000)] | None = (
        Field(
            default=None,
            description="Required when SSO is first configured or the issuer or client id "
            "changes; otherwise the stored secret is kept. Never shown again.",
        )
    )
    allowed_domains: Annotated[
        list[Annotated[str, AfterValidator(_domain)]], Field(max_length=50)
    ] = Field(default_factory=list)
    auto_provision: bool = False


class SsoAuthorizationRequest(RequestBody):
    organization: Slug


SSO_REQUEST_MODELS: tuple[type[RequestBody], ...] = (
    SsoConfigurationUpdate,
    SsoAuthorizationRequest,
)

_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def validation_errors(error: ValidationError | list[Any]) -> list[dict[str, str]]:
    """Turn pydantic's errors into ``[{"field", "message"}]`` without echoing the input."""
    items = error.errors(include_input=False) if isinstance(error, ValidationError) else error
    result = []
    for item in items:
        location = [str(part) for part in item.get("loc", ())]
        if location and location[0] in _SOURCES:  # FastAPI's say where: ("query", "per_page")
            location = location[1:]
        message = str(item.get("msg", "is not valid"))
        if item.get("type") == "missing":
            message = "This field is required."
        elif item.get("type") == "extra_forbidden":
            message = "This field is not allowed here."
        result.append({"field": ".".join(location) or "body", "message": message})
    return result


def invalid_request(errors: list[dict[str, str]]) -> ApiError:
    return ApiError(400, "invalid-request", "The request is not valid.", {"errors": errors})
