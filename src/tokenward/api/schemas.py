"""Request and response bodies. Requests are validated after the gate (see ``bodies``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from tokenward.policy import ALL_SCOPES
from tokenward.store.tables import SLUG_PATTERN

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(json_schema_extra={"pattern": r"\S"}),  # what is left after stripping may not be empty
]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=SLUG_PATTERN)]
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
    value = value.astimezone(dt.UTC)
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


class PersonalTokenCreate(RequestBody):
    name: Name
    scopes: Scopes
    expires_at: FutureTime = None


class OrganizationTokenCreate(RequestBody):
    name: Name
    scopes: Scopes
    expires_at: FutureTime = None


class OrganizationCreate(RequestBody):
    slug: Slug
    name: Name


class SettingsUpdate(RequestBody):
    allow_personal_tokens: bool | None = None


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
)


class UserOut(BaseModel):
    id: str
    email: str
    name: str


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str


class PersonalTokenOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    token_last_characters: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None


class PersonalTokenCreated(PersonalTokenOut):
    token: str = Field(description="The token itself. Shown once; store it now.")


class OrganizationSettingsOut(BaseModel):
    allow_personal_tokens: bool


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
    type: Literal["user", "org_token"]
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
