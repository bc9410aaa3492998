"""What a route admitted into an organization receives: ``OrganizationContext``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.auth.database import RequestDatabase
from tokenward.auth.decision_error import raise_for
from tokenward.auth.organization_policy import policy_of
from tokenward.auth.principal import Principal
from tokenward.errors import ApiError
from tokenward.policy import Requirement, Role, decide
from tokenward.store.admission import AdmittedOrganization
from tokenward.store.organization_record import OrganizationFields
from tokenward.store.tables import Organization, Project

__all__ = ["OrganizationContext", "ProjectContext"]


@dataclass(frozen=True, slots=True)
class OrganizationContext:
    """An organization the caller has been allowed into, and what the caller may do there.

    ``organization`` is read-only: a read may be given the cached record every request shares.
    A change is made to ``stored_organization()``.
    """

    database: RequestDatabase
    principal: Principal
    organization: OrganizationFields
    role: Role | None
    scopes: frozenset[str]
    ip_address: str | None
    admitted: AdmittedOrganization

    def __post_init__(self) -> None:
        if not isinstance(self.admitted, AdmittedOrganization) or (
            self.admitted.id != self.organization.id
        ):
            raise TypeError(
                "An OrganizationContext needs the gate's admission of its organization."
            )

    @property
    def db(self) -> AsyncSession:
        """The request's session, opened now if nothing opened it yet."""
        return self.database.session

    async def stored_organization(self) -> Organization:
        """The organization's row in ``db``, to change it. A changing request's gate read it
        there fresh, and ``organization`` is that row: no second read."""
        stored = await self.db.get(Organization, self.organization.id)
        if stored is None:  # deleted since a cached read
            raise ApiError.not_found()
        return stored

    def allows(self, requirement: Requirement) -> bool:
        """Whether the rule would let this caller do ``requirement`` here (e.g. to show a part
        of a page that an API endpoint guards with that requirement)."""
        decision = decide(
            self.principal.credential, policy_of(self.organization), self.role, requirement
        )
        return decision.allowed

    def require(self, requirement: Requirement) -> None:
        """Ask the rule again with a stricter requirement known only after loading an object."""
        decision = decide(
            self.principal.credential, policy_of(self.organization), self.role, requirement
        )
        raise_for(decision)


@dataclass(frozen=True, slots=True)
class ProjectContext(OrganizationContext):
    """An ``OrganizationContext`` reached through one of its projects (``/projects/{id}/``)."""

    project: Project | None = None

    @property
    def loaded_project(self) -> Project:
        assert self.project is not None
        return self.project
