"""What the authenticator reads about SSO: where a session signed in through an organization's
identity provider, and where a personal token is authorized."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.store.tables import SsoSessionSignIn, SsoTokenAuthorization

__all__ = ["sso_organizations_of_session", "sso_organizations_of_token"]


async def sso_organizations_of_session(session: AsyncSession, login_id: int) -> frozenset[str]:
    rows = await session.scalars(
        select(SsoSessionSignIn.organization_id).where(
            SsoSessionSignIn.login_session_id == login_id
        )
    )
    return frozenset(str(organization_id) for organization_id in rows)


async def sso_organizations_of_token(session: AsyncSession, token_id: int) -> frozenset[str]:
    rows = await session.scalars(
        select(SsoTokenAuthorization.organization_id).where(
            SsoTokenAuthorization.token_id == token_id
        )
    )
    return frozenset(str(organization_id) for organization_id in rows)
