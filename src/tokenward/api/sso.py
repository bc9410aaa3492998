"""SSO per organization: its configuration (owners), personal-token authorizations (the token's
user starts one; owners and managers list and revoke them), and what requiring SSO would stop."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tokenward.actions.sso_authorizations import (
    authorizations_of,
    authorize_path_for,
    revoke_authorization,
)
from tokenward.actions.sso_configuration import (
    ConfigurationInput,
    configuration_of,
    domains_of,
    remove_configuration,
    save_configuration,
)
from tokenward.actions.sso_requirement import require_sso_impact
from tokenward.api.bodies import body_schema, parse_body
from tokenward.api.docs import AUTHENTICATED, GATED, errors
from tokenward.api.presenters import user_out
from tokenward.api.sso_schemas import (
    CredentialAuthorizationOut,
    SsoAuthorizeUrlOut,
    SsoConfigurationOut,
    SsoRequirePreviewOut,
    TokenSummaryOut,
)
from tokenward.auth.access import (
    BrowserMemberAdminAsManager,
    BrowserUser,
    SecuritySettingsWrite,
)
from tokenward.auth.database import Database
from tokenward.errors import ApiError
from tokenward.request_bodies import SsoAuthorizationRequest, SsoConfigurationUpdate
from tokenward.sso_urls import public_base_url, redirect_uri
from tokenward.store.tables import SsoConfiguration

router = APIRouter(prefix="/api/0", tags=["sso"])


def _configuration_out(request: Request, configuration: SsoConfiguration) -> SsoConfigurationOut:
    return SsoConfigurationOut(
        issuer=configuration.issuer,
        client_id=configuration.client_id,
        allowed_domains=domains_of(configuration),
        auto_provision=configuration.auto_provision,
        created_at=configuration.created_at,
        redirect_uri=redirect_uri(request),
    )


@router.get(
    "/organizations/{org}/sso/", response_model=SsoConfigurationOut, responses=errors(*GATED)
)
async def read_configuration(
    request: Request,
    context: SecuritySettingsWrite,
) -> SsoConfigurationOut:
    configuration = await configuration_of(context.db, context.organization.id)
    if configuration is None:
        raise ApiError.not_found()
    return _configuration_out(request, configuration)


@router.put(
    "/organizations/{org}/sso/",
    response_model=SsoConfigurationOut,
    responses=errors(400, *GATED),
    openapi_extra=body_schema(SsoConfigurationUpdate),
)
async def save(
    request: Request,
    response: Response,
    context: SecuritySettingsWrite,
) -> SsoConfigurationOut:
    """Fetches and checks the issuer's discovery document first. The secret is never shown."""
    body = await parse_body(request, SsoConfigurationUpdate)
    configuration = await save_configuration(
        context,
        ConfigurationInput(
            issuer=body.issuer,
            client_id=body.client_id,
            client_secret=body.client_secret,
            allowed_domains=list(dict.fromkeys(body.allowed_domains)),
            auto_provision=body.auto_provision,
        ),
    )
    response.headers["Cache-Control"] = "no-store"
    return _configuration_out(request, configuration)


@router.delete("/organizations/{org}/sso/", status_code=204, responses=errors(409, *GATED))
async def remove(
    context: SecuritySettingsWrite,
) -> Response:
    await remove_configuration(context)
    return Response(status_code=204)


@router.get(
    "/organizations/{org}/sso/require-preview/",
    response_model=SsoRequirePreviewOut,
    responses=errors(*GATED),
)
async def require_preview(
    context: SecuritySettingsWrite,
) -> SsoRequirePreviewOut:
    """What turning ``require_sso`` on would stop today, and how many people it would email."""
    impact = await require_sso_impact(context.db, context.organization.id)
    return SsoRequirePreviewOut(
        members=impact.members,
        members_without_sso=len(impact.without_sso),
        members_without_sso_emails=[user.email for user in impact.without_sso],
        personal_tokens_stopped=len(impact.tokens_stopped),
        members_to_notify=len(impact.to_notify),
    )


@router.post(
    "/users/me/tokens/{token_id}/sso-authorizations/",
    response_model=SsoAuthorizeUrlOut,
    responses=errors(400, 404, *AUTHENTICATED),
    openapi_extra=body_schema(SsoAuthorizationRequest),
)
async def start_authorization(
    request: Request,
    token_id: str,
    principal: BrowserUser,
    db: Database,
) -> SsoAuthorizeUrlOut:
    """Where to go (in a browser signed in as the token's user) to authorize the token."""
    body = await parse_body(request, SsoAuthorizationRequest)
    path = await authorize_path_for(db, principal.user_id, token_id, body.organization)
    return SsoAuthorizeUrlOut(authorizeUrl=public_base_url(request) + path)


@router.get(
    "/organizations/{org}/credential-authorizations/",
    response_model=list[CredentialAuthorizationOut],
    responses=errors(*GATED),
)
async def list_authorizations(
    context: BrowserMemberAdminAsManager,
) -> list[CredentialAuthorizationOut]:
    return [
        CredentialAuthorizationOut(
            id=str(entry.authorization.id),
            user=user_out(entry.user),
            token=TokenSummaryOut(
                id=str(entry.token.id),
                name=entry.token.name,
                token_last_characters=entry.token.token_last_characters,
                scopes=entry.token.scopes.split(),
                expires_at=entry.token.expires_at,
            ),
            authorized_at=entry.authorization.authorized_at,
            last_used_at=entry.last_used_here,
        )
        for entry in await authorizations_of(context)
    ]


@router.delete(
    "/organizations/{org}/credential-authorizations/{authorization_id}/",
    status_code=204,
    responses=errors(*GATED),
)
async def revoke(
    authorization_id: str,
    context: BrowserMemberAdminAsManager,
) -> Response:
    """The token stops working in this organization at once (every process)."""
    await revoke_authorization(context, authorization_id)
    return Response(status_code=204)
