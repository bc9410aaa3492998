"""What is read about SSO: where a session signed in through an organization's identity
provider, where a personal token is authorized, and which tokens an organization authorized."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.store.admission import AdmittedOrganization, admitted_id
from tokenward.store.tables import SsoSessionSignIn, SsoTokenAuthorization

__all__ = [
    "sso_organizations_of_session",
    "sso_organizations_of_token",
    "tokens_authorized_in",
]


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


async def tokens_authorized_in(
    session: AsyncSession, organization: AdmittedOrganization
) -> set[int]:
    """The personal tokens authorized through the organization's identity provider."""
    query = select(SsoTokenAuthorization.token_id).where(
        SsoTokenAuthorization.organization_id == admitted_id(organization)
    )
    return set(await session.scalars(query))
