"""Request and response bodies. Requests are validated after the gate (see ``bodies``)."""

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
    model_validator,
)
from pydantic_core import PydanticCustomError

from tokenward.policy import ALL_SCOPES
from tokenward.store.tables import SLUG_PATTERN

__all__ = [
    "REQUEST_MODELS",
    "ActorOut",
    "AffectedOut",
    "AuditEntryOut",
    "Email",
    "ErrorOut",
    "HealthOut",
    "LoginOut",
    "LoginRequest",
    "MemberCreate",
    "MemberOut",
    "MemberUpdate",
    "OrganizationCreate",
    "OrganizationOut",
    "OrganizationSettingsOut",
    "OrganizationTokenCreate",
    "OrganizationTokenCreated",
    "OrganizationTokenOut",
    "OrganizationUpdate",
    "PersonalTokenCreate",
    "PersonalTokenCreated",
    "PersonalTokenOut",
    "PersonalTokenStandingOut",
    "PersonalTokenUsageOut",
    "ProjectCreate",
    "ProjectOut",
    "ProjectUpdate",
    "RequestBody",
    "SettingsUpdate",
    "Slug",
    "TokenStandingOut",
    "TokenUsageOut",
    "TwoFactorCode",
    "TwoFactorSetupOut",
    "TwoFactorStatusOut",
    "UsageDayOut",
    "UsageTotalsOut",
    "UserOut",
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


class UserOut(BaseModel):
    id: str
    email: str
    name: str


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str


class TokenStandingOut(BaseModel):
    slug: str
    name: str
    standing: str = Field(
        description="allowed, denied-by-policy, revoked-here, 2fa-required or lifetime-exceeded"
    )
    would_be: str | None = Field(
        None, description="In report mode: the standing once the organization enforces its rules"
    )
    code: str | None = Field(None, description="The refusal code, enforced or only reported")


class PersonalTokenOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    token_last_characters: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    organizations: list[TokenStandingOut] = Field(
        default_factory=list,
        description="The token's standing in each organization the user belongs to",
    )


class PersonalTokenCreated(PersonalTokenOut):
    token: str = Field(description="The token itself. Shown once; store it now.")


class OrganizationSettingsOut(BaseModel):
    allow_personal_tokens: bool
    personal_token_enforcement: Literal["enforce", "report"] = "enforce"
    personal_token_max_lifetime_days: int | None = None
    require_2fa: bool = False
    require_sso: bool = False


class OrganizationOut(BaseModel):
    id: str
    slug: str
    name: str
    role: RoleName | None
    settings: OrganizationSettingsOut
    created_at: dt.datetime


class MemberOut(BaseModel):
    id: str
    user: UserOut
    role: RoleName
    created_at: dt.datetime


class OrganizationTokenOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    token_last_characters: str
    created_at: dt.datetime
    created_by: UserOut | None
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None


class OrganizationTokenCreated(OrganizationTokenOut):
    token: str = Field(description="The token itself. Shown once; store it now.")


class ProjectOut(BaseModel):
    id: str
    slug: str
    name: str
    organization: str
    created_at: dt.datetime


class ActorOut(BaseModel):
    type: Literal["user", "org_token", "system", "operator"]
    id: str | None
    name: str


class AuditEntryOut(BaseModel):
    id: str
    event: str
    actor: ActorOut
    ip_address: str | None
    created_at: dt.datetime
    data: dict[str, Any]


class HealthOut(BaseModel):
    status: Literal["ok"]


class ErrorDetail(BaseModel):
    code: str
    message: str
    extra: dict[str, Any]


class ErrorOut(BaseModel):
    detail: ErrorDetail


class TwoFactorStatusOut(BaseModel):
    enabled: bool
    pending: bool


class TwoFactorSetupOut(BaseModel):
    secret: str = Field(description="The base32 secret, for apps that cannot scan the QR code.")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as an SVG QR code, rendered locally.")


class TokenHolderOut(BaseModel):
    id: str
    email: str
    name: str


class PersonalTokenStandingOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    token_last_characters: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    last_used_here: dt.date | None = Field(description="UTC day of the last use here.")
    user: UserOut
    role: RoleName
    standing: Literal[
        "allowed",
        "denied-by-policy",
        "lifetime-exceeded",
        "revoked-here",
        "2fa-required",
        "denied",
        "sso-unauthorized",
    ]
    would_be: str | None = Field(
        description="In report mode: the standing enforcement would give, if not allowed."
    )
    revoked_here_at: dt.datetime | None


class UsageDayOut(BaseModel):
    date: dt.date
    allowed: int
    denied: int
    would_be_denied: int


class TokenUsageOut(BaseModel):
    token: PersonalTokenOut
    user: UserOut
    last_used_here: dt.date | None
    allowed: int
    denied: int
    would_be_denied: int
    current_standing: str
    proposed_standing: str
    daily: list[UsageDayOut]


class AffectedOut(BaseModel):
    tokens: int
    members: int


class UsageTotalsOut(BaseModel):
    requests: dict[str, int]
    tokens_used: int
    members_using: int
    current_policy_affects: AffectedOut
    proposed_policy_affects: AffectedOut
    members_to_notify: int = Field(
        description="Members told by email if the proposed policy is saved (tokens used here "
        "in the last 30 days that it denies)."
    )


class PersonalTokenUsageOut(BaseModel):
    days: int
    since: dt.date
    settings: OrganizationSettingsOut
    proposed: OrganizationSettingsOut
    series: list[UsageDayOut]
    tokens: list[TokenUsageOut]
    totals: UsageTotalsOut
