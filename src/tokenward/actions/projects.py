"""Projects: the organization's own data, reached only through a gated context."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.audit import audit
from tokenward.auth.organization_context import OrganizationContext, ProjectContext
from tokenward.errors import ApiError
from tokenward.store.admission import AdmittedOrganization, admitted_id
from tokenward.store.tables import Project, utcnow

__all__ = [
    "PROJECT_LISTING",
    "create_project",
    "delete_project",
    "listing_parameters",
    "projects_listed",
    "projects_of",
    "rename_project",
]


def projects_of(organization: AdmittedOrganization) -> Select[Project]:
    return select(Project).where(Project.organization_id == admitted_id(organization))


# The columns a list shows, without loading ORM objects (the key column first); built once,
# run with ``{"organization_id": ...}``.
PROJECT_LISTING: Select[int, str, str, dt.datetime] = select(
    Project.id, Project.slug, Project.name, Project.created_at
).where(Project.organization_id == bindparam("organization_id"))


def listing_parameters(organization: AdmittedOrganization) -> dict[str, int]:
    """What ``PROJECT_LISTING`` runs with: only for an organization the gate admitted."""
    return {"organization_id": admitted_id(organization)}


def _taken(slug: str) -> ApiError:
    return ApiError(
        409, "conflict", f"A project with the slug '{slug}' already exists here.", {"field": "slug"}
    )


async def create_project(context: OrganizationContext, *, slug: str, name: str) -> Project:
    db = context.db
    organization_id = context.organization.id
    if await db.scalar(projects_of(context.admitted).where(Project.slug == slug)) is not None:
        raise _taken(slug)
    project = Project(organization_id=organization_id, slug=slug, name=name, created_at=utcnow())
    db.add(project)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise _taken(slug) from None
    audit(context, "project.create", {"project_id": str(project.id), "slug": slug, "name": name})
    await db.commit()
    return project


async def rename_project(context: ProjectContext, *, name: str) -> Project:
    project = context.loaded_project
    if name != project.name:
        audit(
            context,
            "project.edit",
            {
                "project_id": str(project.id),
                "slug": project.slug,
                "changes": {"name": {"old": project.name, "new": name}},
            },
        )
        project.name = name
        await context.db.commit()
    return project


async def delete_project(context: ProjectContext) -> None:
    project = context.loaded_project
    audit(
        context,
        "project.remove",
        {"project_id": str(project.id), "slug": project.slug, "name": project.name},
    )
    await context.db.delete(project)
    await context.db.commit()


async def projects_listed(
    db: AsyncSession, organization: AdmittedOrganization, *, limit: int
) -> Sequence[Project]:
    """The organization's first ``limit`` projects by slug."""
    query = projects_of(organization).order_by(Project.slug).limit(limit)
    return (await db.scalars(query)).all()
