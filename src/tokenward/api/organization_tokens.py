"""Organization tokens: created, listed and revoked from a browser session only."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tokenward.actions.organization_tokens import (
    mint_organization_token,
    organization_tokens_of,
    revoke_organization_token,
)
from tokenward.api.bodies import body_schema, parse_body
from tokenward.api.caching import NO_STORE
from tokenward.api.docs import GATED, errors
from tokenward.api.pagination import PageQuery, paginate
from tokenward.api.presenters import organization_token_out
from tokenward.api.schemas import OrganizationTokenCreated, OrganizationTokenOut
from tokenward.auth.access import BrowserOrgRead, BrowserOrgWrite
from tokenward.request_bodies import OrganizationTokenCreate
from tokenward.store.tables import OrganizationToken

router = APIRouter(prefix="/api/0/organizations/{org}/tokens", tags=["organization tokens"])


@router.get("/", response_model=list[OrganizationTokenOut], responses=errors(400, *GATED))
async def list_tokens(
    request: Request,
    response: Response,
    page: PageQuery,
    context: BrowserOrgRead,
) -> list[OrganizationTokenOut]:
    query = organization_tokens_of(context.admitted)
    rows = await paginate(context.db, query, OrganizationToken.id, page, request, response)
    return [organization_token_out(token, creator) for token, creator in rows]


@router.post(
    "/",
    status_code=201,
    response_model=OrganizationTokenCreated,
    responses=errors(400, *GATED),
    openapi_extra=body_schema(OrganizationTokenCreate),
    dependencies=[NO_STORE],
)
async def create_token(
    request: Request,
    context: BrowserOrgWrite,
) -> OrganizationTokenCreated:
    body = await parse_body(request, OrganizationTokenCreate)
    token, creator, secret = await mint_organization_token(
        context, name=body.name, scopes=body.scopes, expires_at=body.expires_at
    )
    return OrganizationTokenCreated(
        **organization_token_out(token, creator).model_dump(), token=secret
    )


@router.delete("/{token_id}/", status_code=204, responses=errors(*GATED))
async def revoke_token(
    token_id: str,
    context: BrowserOrgWrite,
) -> Response:
    await revoke_organization_token(context, token_id)
    return Response(status_code=204)
