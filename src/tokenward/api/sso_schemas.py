"""Response bodies of the SSO endpoints: configuration, token authorizations."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from tokenward.api.schemas import UserOut

__all__ = [
    "CredentialAuthorizationOut",
    "SsoAuthorizeUrlOut",
    "SsoConfigurationOut",
    "SsoRequirePreviewOut",
    "TokenSummaryOut",
]


class SsoConfigurationOut(BaseModel):
    issuer: str
    client_id: str
    allowed_domains: list[str]
    auto_provision: bool
    created_at: dt.datetime
    redirect_uri: str


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
