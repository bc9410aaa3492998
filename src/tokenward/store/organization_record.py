"""An organization's row as an immutable value, and the read-only face it shares with the row.

The gate caches organizations as ``OrganizationRecord`` values and hands the same value to every
request that reads through the cache: it cannot be altered, so no handler can change what other
requests see, and building nothing per request keeps a cache hit cheap. Readers take
``OrganizationFields``, which a stored ``Organization`` row satisfies too; a change is made to the
row, never to a record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import inspect as sa_inspect

from tokenward.store.tables import Organization

__all__ = ["OrganizationFields", "OrganizationRecord"]


class OrganizationFields(Protocol):
    """Every column of an organization, read-only."""

    @property
    def id(self) -> int: ...
    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def allow_personal_tokens(self) -> bool: ...
    @property
    def personal_token_enforcement(self) -> str: ...
    @property
    def personal_token_max_lifetime_days(self) -> int | None: ...
    @property
    def require_2fa(self) -> bool: ...
    @property
    def created_at(self) -> dt.datetime: ...
    @property
    def require_sso(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class OrganizationRecord:
    """Every column of an organization row, immutable, so safely shared between requests."""

    id: int
    slug: str
    name: str
    allow_personal_tokens: bool
    personal_token_enforcement: str
    personal_token_max_lifetime_days: int | None
    require_2fa: bool
    created_at: dt.datetime
    require_sso: bool

    @classmethod
    def of(cls, organization: OrganizationFields) -> OrganizationRecord:
        return cls(*(getattr(organization, name) for name in _FIELDS))


_FIELDS = tuple(field.name for field in dataclasses.fields(OrganizationRecord))
_COLUMNS = tuple(attribute.key for attribute in sa_inspect(Organization).column_attrs)
_READABLE = tuple(
    name for name, member in vars(OrganizationFields).items() if isinstance(member, property)
)
# A column added to the table must be cached (and so invalidated by ``Change.organization``) and
# readable like the others: the application does not start until both name it.
if set(_FIELDS) != set(_COLUMNS) or set(_READABLE) != set(_COLUMNS):
    raise TypeError(
        f"OrganizationRecord and OrganizationFields must name every column of organizations: "
        f"{sorted(_COLUMNS)}"
    )
