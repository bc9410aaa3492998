"""Response bodies. What a client may send is in ``tokenward.request_bodies``."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from tokenward.request_bodies import RoleName

__all__ = [
    "ActorOut",
    "AffectedOut",
    "AuditEntryOut",
    "ErrorOut",
    "HealthOut",
    "LoginOut",
    "MemberOut",
    "OrganizationOut",
    "OrganizationSettingsOut",
    "OrganizationTokenCreated",
    "OrganizationTokenOut",
    "PersonalTokenCreated",
    "PersonalTokenOut",
    "PersonalTokenStandingOut",
    "PersonalTokenUsageOut",
    "ProjectOut",
    "TokenStandingOut",
    "TokenUsageOut",
    "TwoFactorSetupOut",
    "TwoFactorStatusOut",
    "UsageDayOut",
    "UsageTotalsOut",
    "UserOut",
]


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
