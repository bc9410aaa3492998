"""Organization tokens: list, create (the secret shown once), revoke. Sessions only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from tokenward.actions.leaked_token_lists import leaked_organization_tokens
from tokenward.actions.organization_tokens import (
    mint_organization_token,
    organization_tokens_of,
    revoke_organization_token,
)
from tokenward.api.schemas import OrganizationTokenCreate
from tokenward.auth.gate import OrganizationContext, organization_access
from tokenward.errors import ApiError
from tokenward.policy import ROLE_SCOPES
from tokenward.store.tables import OrganizationToken, User
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    FORM_ERRORS,
    checked_form,
    error_context,
    status_for,
    text,
    texts,
    validated,
)
from tokenward.web.layout import SCOPES, organization_page, organization_url

router = APIRouter(include_in_schema=False)

_SHOWN = 500


async def _page(
    request: Request,
    context: OrganizationContext,
    *,
    created: tuple[OrganizationToken, str] | None = None,
    error: ApiError | None = None,
    values: dict[str, object] | None = None,
) -> HTMLResponse:
    query = organization_tokens_of(context.admitted).order_by(OrganizationToken.id.desc())
    rows: list[tuple[OrganizationToken, User | None]] = [
        (token, creator) for token, creator in (await context.db.execute(query.limit(_SHOWN))).all()
    ]
    # A token may carry no more than its creator's role allows (the action checks it).
    grantable = ROLE_SCOPES[context.role] if context.role is not None else frozenset()
    return organization_page(
        request,
        context,
        "organization_tokens.html",
        "tokens",
        {
            "tokens": rows,
            "leaked": await leaked_organization_tokens(context.db, context.organization.id),
            "can_manage": "org:write" in context.scopes,
            "scope_choices": [scope for scope in SCOPES if scope in grantable],
            "created": created,
            **error_context(error),
            "values": values or {"scopes": ["project:read"]},
        },
        status_code=status_for(error),
    )


@router.get("/settings/{org}/tokens/")
async def tokens(
    request: Request,
    context: OrganizationContext = organization_access("org:read", session_only=True),
) -> HTMLResponse:
    return await _page(request, context)


@router.post("/settings/{org}/tokens/", response_model=None)
async def create(
    request: Request,
    form: FormData = Depends(checked_form),
    context: OrganizationContext = organization_access("org:write", session_only=True),
) -> Response:
    values: dict[str, object] = {"name": text(form, "name"), "scopes": texts(form, "scopes")}
    try:
        body = validated(OrganizationTokenCreate, values)
        token, _, secret = await mint_organization_token(
            context, name=body.name, scopes=body.scopes, expires_at=None
        )
    except ApiError as error:
        if error.status not in FORM_ERRORS:
            raise
        return await _page(request, context, error=error, values=values)
    return await _page(request, context, created=(token, secret))


@router.post("/settings/{org}/tokens/{token_id}/revoke/", response_model=None)
async def revoke(
    request: Request,
    token_id: str,
    form: FormData = Depends(checked_form),
    context: OrganizationContext = organization_access("org:write", session_only=True),
) -> Response:
    await revoke_organization_token(context, token_id)
    return redirect_with_flash(
        request, organization_url(context, "tokens/"), "Token revoked. It stopped working."
    )
