"""What is read about SSO: which tokens an organization authorized. (Where a session signed in
through an identity provider, or a token is authorized, is read with the credential itself:
``tokenward.store.principals``.)"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.store.admission import AdmittedOrganization, admitted_id
from tokenward.store.tables import SsoTokenAuthorization

__all__ = ["tokens_authorized_in"]


async def tokens_authorized_in(
    session: AsyncSession, organization: AdmittedOrganization
) -> set[int]:
    """The personal tokens authorized through the organization's identity provider."""
    query = select(SsoTokenAuthorization.token_id).where(
        SsoTokenAuthorization.organization_id == admitted_id(organization)
    )
    return set(await session.scalars(query))
