"""A personal token no cache holds, read with the organization its request names: one statement.

``find_personal_token`` joined with what the gate reads on a miss (the organization by slug, the
token's user's role there, the token's cut-off there; see ``admission_queries``), so a request
that misses every cache waits for one round trip. Authentication runs it when the request's path
names an organization (``Authenticator``); the organization part is remembered by
``CachedOrganizations.remember_standing``.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam

from tokenward.store.admission_queries import (
    ORGANIZATION_COLUMNS,
    TokenStanding,
    could_exist,
    standing_of,
)
from tokenward.store.principals import (
    PERSONAL_TOKEN,
    PersonalTokenRecord,
    find_personal_token,
    personal_token_of,
)
from tokenward.store.reads import Reads
from tokenward.store.tables import (
    Membership,
    Organization,
    PersonalToken,
    PersonalTokenRevocation,
)

__all__ = ["find_personal_token_and_standing"]

_TOKEN_WIDTH = len(PERSONAL_TOKEN.selected_columns)

_WITH_STANDING = (
    PERSONAL_TOKEN.add_columns(
        *(getattr(Organization, key) for key in ORGANIZATION_COLUMNS),
        Membership.role,
        PersonalTokenRevocation.id,
    )
    .outerjoin(Organization, Organization.slug == bindparam("slug"))
    .outerjoin(
        Membership,
        and_(
            Membership.organization_id == Organization.id,
            Membership.user_id == PersonalToken.user_id,
        ),
    )
    .outerjoin(
        PersonalTokenRevocation,
        and_(
            PersonalTokenRevocation.organization_id == Organization.id,
            PersonalTokenRevocation.token_id == PersonalToken.id,
        ),
    )
)


async def find_personal_token_and_standing(
    reads: Reads, *, digest: str, slug: str
) -> tuple[PersonalTokenRecord | None, TokenStanding]:
    """The personal token with this digest (None: unknown), and the organization named by slug
    with that token's standing there (``columns`` None: no such organization, or no token)."""
    if not could_exist(slug):  # a NUL would not even reach PostgreSQL
        return await find_personal_token(reads, digest), TokenStanding(None)
    rows = await reads.all(_WITH_STANDING, {"digest": digest, "slug": slug})
    if not rows:
        return None, TokenStanding(None)
    token = personal_token_of([row[:_TOKEN_WIDTH] for row in rows])
    standing = standing_of(rows[0][_TOKEN_WIDTH:], token_id=token.id, user_id=token.user_id)
    return token, standing
