"""Projects: by organization slug, or by id, where the organization is known only after loading."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tokenward.actions.projects import (
    PROJECT_LISTING,
    create_project,
    delete_project,
    listing_parameters,
    rename_project,
)
from tokenward.api.bodies import body_schema, parse_body
from tokenward.api.docs import GATED, errors
from tokenward.api.pagination import PageQuery, paginate
from tokenward.api.presenters import project_out, project_row_out
from tokenward.api.rendering import json_list
from tokenward.api.schemas import ProjectOut
from tokenward.auth.access import (
    ProjectAdmin,
    ProjectRead,
    ProjectsRead,
    ProjectsWrite,
    ProjectWrite,
)
from tokenward.request_bodies import ProjectCreate, ProjectUpdate
from tokenward.store.tables import Project

router = APIRouter(prefix="/api/0", tags=["projects"])


@router.get(
    "/organizations/{org}/projects/", response_model=list[ProjectOut], responses=errors(400, *GATED)
)
async def list_projects(
    request: Request,
    response: Response,
    page: PageQuery,
    context: ProjectsRead,
) -> Response:
    rows = await paginate(
        context.database,
        PROJECT_LISTING,
        Project.id,
        page,
        request,
        response,
        params=listing_parameters(context.admitted),
    )
    link = response.headers.get("Link")
    return json_list(
        ProjectOut,
        [project_row_out(row, context.organization) for row in rows],
        headers={"Link": link} if link else None,
    )


@router.post(
    "/organizations/{org}/projects/",
    status_code=201,
    response_model=ProjectOut,
    responses=errors(400, 409, *GATED),
    openapi_extra=body_schema(ProjectCreate),
)
async def create(
    request: Request,
    context: ProjectsWrite,
) -> ProjectOut:
    body = await parse_body(request, ProjectCreate)
    project = await create_project(context, slug=body.slug, name=body.name)
    return project_out(project, context.organization)


@router.get("/projects/{project_id}/", response_model=ProjectOut, responses=errors(*GATED))
async def read(context: ProjectRead) -> ProjectOut:
    return project_out(context.loaded_project, context.organization)


@router.put(
    "/projects/{project_id}/",
    response_model=ProjectOut,
    responses=errors(400, *GATED),
    openapi_extra=body_schema(ProjectUpdate),
)
async def update(request: Request, context: ProjectWrite) -> ProjectOut:
    body = await parse_body(request, ProjectUpdate)
    project = await rename_project(context, name=body.name)
    return project_out(project, context.organization)


@router.delete("/projects/{project_id}/", status_code=204, responses=errors(*GATED))
async def delete(context: ProjectAdmin) -> Response:
    await delete_project(context)
    return Response(status_code=204)
