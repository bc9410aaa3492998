"""Organization tokens: owned, listed and revoked by the organization; no user behind them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tokenward import credentials
from tokenward.actions.audit import audit
from tokenward.auth.changes import Change
from tokenward.auth.coherence import commit_changes
from tokenward.auth.organization_context import OrganizationContext
from tokenward.errors import ApiError
from tokenward.policy import ROLE_SCOPES
from tokenward.store.admission import AdmittedOrganization, admitted_id
from tokenward.store.ids import parse_id
from tokenward.store.tables import OrganizationToken, User, utcnow

__all__ = [
    "mint_organization_token",
    "organization_token_names",
    "organization_tokens_listed",
    "organization_tokens_of",
    "revoke_organization_token",
]

Creator = aliased(User)


def organization_tokens_of(organization: AdmittedOrganization) -> Select[OrganizationToken, User]:
    return (
        select(OrganizationToken, Creator)
        .outerjoin(Creator, Creator.id == OrganizationToken.created_by_id)
        .where(
            OrganizationToken.organization_id == admitted_id(organization),
            OrganizationToken.revoked_at.is_(None),
        )
    )


async def organization_token_names(
    db: AsyncSession, organization: AdmittedOrganization
) -> list[str]:
    """The names of the organization's live tokens."""
    query = organization_tokens_of(organization).with_only_columns(OrganizationToken.name)
    return list(await db.scalars(query))


async def mint_organization_token(
    context: OrganizationContext,
    *,
    name: str,
    scopes: list[str],
    expires_at: dt.datetime | None,
) -> tuple[OrganizationToken, User | None, str]:
    """Mint a token whose scopes stay within the creator's own role."""
    allowed = ROLE_SCOPES[context.role] if context.role is not None else frozenset()
    beyond = sorted(set(scopes) - allowed)
    if beyond:
        raise ApiError.invalid(
            "scopes", f"exceed your role in this organization: {', '.join(beyond)}"
        )
    minted = credentials.mint(credentials.TokenKind.ORGANIZATION)
    creator = context.principal.user
    token = OrganizationToken(
        organization_id=context.organization.id,
        name=name,
        token_hash=minted.digest,
        token_last_characters=minted.last_characters,
        scopes=" ".join(sorted(scopes)),
        created_by_id=creator.id if creator is not None else None,
        expires_at=expires_at,
        created_at=utcnow(),
    )
    context.db.add(token)
    await context.db.flush()
    audit(
        context,
        "org-token.create",
        {
            "token_id": str(token.id),
            "name": name,
            "scopes": token.scopes.split(),
            "token_last_characters": token.token_last_characters,
        },
    )
    await context.db.commit()
    creator_row = await context.db.get(User, creator.id) if creator is not None else None
    return token, creator_row, minted.secret


async def revoke_organization_token(context: OrganizationContext, token_id: str) -> None:
    token = None
    wanted = parse_id(token_id)
    if wanted is not None:
        token = await context.db.scalar(
            select(OrganizationToken).where(
                OrganizationToken.id == wanted,
                OrganizationToken.organization_id == context.organization.id,
                OrganizationToken.revoked_at.is_(None),
            )
        )
    if token is None:
        raise ApiError.not_found()
    token.revoked_at = utcnow()
    audit(
        context,
        "org-token.revoke",
        {
            "token_id": str(token.id),
            "name": token.name,
            "token_last_characters": token.token_last_characters,
        },
    )
    await commit_changes(context.db, Change.organization_token(token.id))


async def organization_tokens_listed(
    db: AsyncSession, organization: AdmittedOrganization, *, limit: int
) -> list[tuple[OrganizationToken, User | None]]:
    """The organization's ``limit`` newest tokens, each with who created it."""
    query = organization_tokens_of(organization).order_by(OrganizationToken.id.desc())
    rows = await db.execute(query.limit(limit))
    return [(token, creator) for token, creator in rows.all()]
