"""The caller as a user: who am I, and my personal tokens (managed only from a session)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request, Response

from tokenward.actions.accounts import (
    mint_personal_token,
    personal_tokens_of,
    revoke_personal_token,
)
from tokenward.actions.token_standing import OrganizationStanding, token_standings
from tokenward.api.bodies import body_schema, parse_body
from tokenward.api.caching import NO_STORE
from tokenward.api.docs import AUTHENTICATED, errors
from tokenward.api.pagination import PageQuery, paginate
from tokenward.api.presenters import personal_token_out
from tokenward.api.schemas import PersonalTokenCreated, PersonalTokenOut, TokenStandingOut, UserOut
from tokenward.auth.access import BrowserUser, SignedIn
from tokenward.auth.database import Database
from tokenward.request_bodies import PersonalTokenCreate
from tokenward.store.tables import PersonalToken

router = APIRouter(prefix="/api/0/users/me", tags=["users"])


@router.get("/", response_model=UserOut, responses=errors(*AUTHENTICATED))
async def me(principal: SignedIn) -> UserOut:
    user = principal.user
    assert user is not None
    return UserOut(id=str(user.id), email=user.email, name=user.name)


@router.get("/tokens/", response_model=list[PersonalTokenOut], responses=errors(400, 401, 403))
async def list_personal_tokens(
    request: Request,
    response: Response,
    page: PageQuery,
    principal: BrowserUser,
    db: Database,
) -> list[PersonalTokenOut]:
    query = personal_tokens_of(principal.user_id)
    rows = await paginate(db, query, PersonalToken.id, page, request, response)
    tokens = [row[0] for row in rows]
    standings = await token_standings(db, principal.user_id, tokens)
    return [_with_standings(token, standings[token.id]) for token in tokens]


def _with_standings(token: PersonalToken, found: list[OrganizationStanding]) -> PersonalTokenOut:
    out = personal_token_out(token)
    out.organizations = [TokenStandingOut(**asdict(entry)) for entry in found]
    return out


@router.post(
    "/tokens/",
    status_code=201,
    response_model=PersonalTokenCreated,
    responses=errors(400, *AUTHENTICATED),
    openapi_extra=body_schema(PersonalTokenCreate),
    dependencies=[NO_STORE],
)
async def create_personal_token(
    request: Request,
    principal: BrowserUser,
    db: Database,
) -> PersonalTokenCreated:
    body = await parse_body(request, PersonalTokenCreate)
    token, secret = await mint_personal_token(
        db, principal.user_id, name=body.name, scopes=body.scopes, expires_at=body.expires_at
    )
    standings = await token_standings(db, principal.user_id, [token])
    created = _with_standings(token, standings[token.id])
    return PersonalTokenCreated(**created.model_dump(), token=secret)


@router.delete("/tokens/{token_id}/", status_code=204, responses=errors(404, *AUTHENTICATED))
async def delete_personal_token(
    token_id: str,
    principal: BrowserUser,
    db: Database,
) -> Response:
    await revoke_personal_token(db, principal.user_id, token_id)
    return Response(status_code=204)
