"""An organization's projects: list and create."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tokenward.actions.projects import create_project, projects_listed
from tokenward.auth.access import BrowserProjectsRead, BrowserProjectsWrite
from tokenward.auth.form_csrf import PostedForm
from tokenward.auth.organization_context import OrganizationContext
from tokenward.errors import ApiError
from tokenward.request_bodies import ProjectCreate
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import (
    error_context,
    shown_on_form,
    status_for,
    text,
    validated,
)
from tokenward.web.layout import organization_page, organization_url

router = APIRouter(include_in_schema=False)

_SHOWN = 500


async def _page(
    request: Request,
    context: OrganizationContext,
    *,
    error: ApiError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    return organization_page(
        request,
        context,
        "organization_projects.html",
        "projects",
        {
            "projects": await projects_listed(context.db, context.admitted, limit=_SHOWN),
            "can_create": "project:write" in context.scopes,
            **error_context(error),
            "values": values or {},
        },
        status_code=status_for(error),
    )


@router.get("/settings/{org}/projects/")
async def projects(
    request: Request,
    context: BrowserProjectsRead,
) -> HTMLResponse:
    return await _page(request, context)


@router.post("/settings/{org}/projects/", response_model=None)
async def create(
    request: Request,
    form: PostedForm,
    context: BrowserProjectsWrite,
) -> Response:
    values = {"slug": text(form, "slug").strip(), "name": text(form, "name")}
    try:
        body = validated(ProjectCreate, values)
        project = await create_project(context, slug=body.slug, name=body.name)
    except ApiError as error:
        return await _page(request, context, error=shown_on_form(error), values=values)
    return redirect_with_flash(
        request, organization_url(context, "projects/"), f"Project {project.name} created."
    )
