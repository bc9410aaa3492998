"""The page behind an invitation link: choose a name and password, join, land in the organization.

The link's key is the only thing that lets anyone use it, so its pages are never cached. An
unknown, expired, revoked or used link gets a page that says which, and nothing changes.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.invitations import (
    InvitationUnusable,
    accept_invitation,
    find_usable_invitation,
)
from tokenward.auth.access import public
from tokenward.auth.caller import client_ip
from tokenward.auth.database import database
from tokenward.auth.session_cookie import set_session_cookie
from tokenward.errors import ApiError
from tokenward.store.tables import Invitation, Organization, User
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import field_errors, text
from tokenward.web.templating import render

router = APIRouter(include_in_schema=False)

_NO_STORE = {"Cache-Control": "no-store"}

_UNUSABLE = {
    "unknown": (
        404,
        "This invitation link is not valid",
        "Check that the whole link from the email was opened, or ask for a new invitation.",
    ),
    "expired": (
        410,
        "This invitation has expired",
        "Invitations last seven days. Ask an owner or manager of the organization to resend it.",
    ),
    "revoked": (
        410,
        "This invitation was withdrawn",
        "An owner or manager of the organization revoked it. Ask them if you still need access.",
    ),
    "accepted": (
        410,
        "This invitation has already been used",
        "Each invitation link works once. Sign in with the account it created.",
    ),
}


def _unusable_page(request: Request, reason: str) -> HTMLResponse:
    status, title, message = _UNUSABLE.get(reason, _UNUSABLE["unknown"])
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "message": message, "code": f"invitation-{reason}"},
        status_code=status,
        headers=_NO_STORE,
    )


async def _form(
    request: Request,
    db: AsyncSession,
    invitation: Invitation,
    organization: Organization,
    *,
    error: ApiError | None = None,
    name: str = "",
) -> HTMLResponse:
    has_account = bool(
        await db.scalar(
            select(func.count()).select_from(User).where(User.email == invitation.email)
        )
    )
    shown = {
        "invitation": {"email": invitation.email, "role": invitation.role},
        "organization": {"name": organization.name},
    }
    await db.rollback()
    return render(
        request,
        "accept_invite.html",
        {
            **shown,
            "has_account": has_account,
            "error": error,
            "errors": field_errors(error),
            "name": name,
        },
        status_code=error.status if error is not None else 200,
        headers=_NO_STORE,
    )


@router.get("/accept-invite/{key}/", dependencies=[public()], response_model=None)
async def accept_form(request: Request, key: str, db: AsyncSession = Depends(database)) -> Response:
    try:
        invitation, organization = await find_usable_invitation(db, key)
    except InvitationUnusable as unusable:
        return _unusable_page(request, unusable.reason)
    return await _form(request, db, invitation, organization)


@router.post("/accept-invite/{key}/", dependencies=[public()], response_model=None)
async def accept(request: Request, key: str, db: AsyncSession = Depends(database)) -> Response:
    form = await request.form()
    name = text(form, "name")[:200]
    password = text(form, "password")
    if "\x00" in name or "\x00" in password:
        name, password = "", ""
    settings = request.app.state.settings
    try:
        accepted = await accept_invitation(
            db,
            key,
            name=name,
            password=password,
            max_age=dt.timedelta(seconds=settings.session_max_age_seconds),
            ip_address=client_ip(request),
        )
    except InvitationUnusable as unusable:
        return _unusable_page(request, unusable.reason)
    except ApiError as error:
        if error.status not in {400, 401}:
            raise
        try:
            invitation, organization = await find_usable_invitation(db, key)
        except InvitationUnusable as unusable:
            return _unusable_page(request, unusable.reason)
        return await _form(request, db, invitation, organization, error=error, name=name)
    organization = accepted.organization
    response: RedirectResponse = redirect_with_flash(
        request, f"/settings/{organization.slug}/", f"Welcome to {organization.name}."
    )
    set_session_cookie(request, response, accepted.session_key)
    response.headers["Cache-Control"] = "no-store"
    return response
