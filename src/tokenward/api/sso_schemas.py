"""Bodies of the SSO endpoints: configuration, token authorizations."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from tokenward.api.schemas import RequestBody, Slug, UserOut

__all__ = [
    "SSO_REQUEST_MODELS",
    "CredentialAuthorizationOut",
    "SsoAuthorizationRequest",
    "SsoAuthorizeUrlOut",
    "SsoConfigurationOut",
    "SsoConfigurationUpdate",
    "SsoRequirePreviewOut",
    "TokenSummaryOut",
]

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


SSO_REQUEST_MODELS: tuple[type[RequestBody], ...] = ()


class SsoConfigurationOut(BaseModel):
    issuer: str
    client_id: str
    allowed_domains: list[str]
    auto_provision: bool
    created_at: dt.datetime
    redirect_uri: str


class SsoAuthorizationRequest(RequestBody):
    organization: Slug


class SsoAuthorizeUrlOut(BaseModel):
    authorizeUrl: str  # noqa: N815 (the contract's name)


class TokenSummaryOut(BaseModel):
    id: str
    name: str
    token_last_characters: str
    scopes: list[str]
    expires_at: dt.datetime | None


class CredentialAuthorizationOut(BaseModel):
    id: str
    user: UserOut
    token: TokenSummaryOut
    authorized_at: dt.datetime
    last_used_at: dt.date | None


class SsoRequirePreviewOut(BaseModel):
    members: int
    members_without_sso: int
    members_without_sso_emails: list[str]
    personal_tokens_stopped: int
    members_to_notify: int


SSO_REQUEST_MODELS = (SsoConfigurationUpdate, SsoAuthorizationRequest)
