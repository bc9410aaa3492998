"""The page behind an invitation link: choose a name and password (or continue with the
organization's SSO, see ``invitation_sso``), join, land in the organization. Someone already
signed in with the invited email joins with one click; with another email, they are refused.

The link's key is the only thing that lets anyone use it, so its pages are never cached. An
unknown, expired, revoked or used link gets a page that says which, and nothing changes.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.actions.invitations import (
    InvitationUnusable,
    accept_invitation,
    find_usable_invitation,
)
from tokenward.actions.members import has_account
from tokenward.actions.signed_in_invitations import InvitationForSomeoneElse, join_signed_in
from tokenward.actions.sso_configuration import configuration_of
from tokenward.auth.access import BrowserUser, public
from tokenward.auth.caller import client_ip
from tokenward.auth.database import Database
from tokenward.auth.form_csrf import PostedForm
from tokenward.auth.session_cookie import set_session_cookie
from tokenward.errors import ApiError
from tokenward.store.tables import Invitation, Organization
from tokenward.web.flash import redirect_with_flash
from tokenward.web.forms import field_errors, text
from tokenward.web.templating import render, session_principal

__all__ = ["unusable_page"]

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
    "cookie-lost": (
        400,
        "This browser no longer holds the invitation",
        "Accepting through SSO keeps the invitation in this browser for 15 minutes. Open the link "
        "in your invitation email again; nothing was changed.",
    ),
    "sso-required": (
        403,
        "This organization takes members only through its SSO",
        "Open the link in your invitation email again and continue with the organization's SSO; "
        "nothing was changed.",
    ),
    "sso-unfinished": (
        400,
        "Signing in through SSO did not finish",
        "Open the link in your invitation email again and continue with the organization's SSO; "
        "nothing was changed.",
    ),
}


def _someone_else(refusal: InvitationForSomeoneElse) -> tuple[int, str, str]:
    message = (
        f"This invitation is for {refusal.invited}, and you are signed in with another email "
        f"address. Sign out, or sign in at your identity provider as {refusal.invited}, then "
        "open the link again; or ask whoever invited you to invite the address you use. The "
        "invitation still works; nothing was changed."
    )
    return 403, "This invitation is for someone else", message


def unusable_page(request: Request, unusable: InvitationUnusable) -> HTMLResponse:
    """The page that says why this invitation cannot be accepted here and now."""
    if isinstance(unusable, InvitationForSomeoneElse):
        status, title, message = _someone_else(unusable)
    else:
        status, title, message = _UNUSABLE.get(unusable.reason, _UNUSABLE["unknown"])
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title": title,
            "message": message,
            "code": f"invitation-{unusable.reason}",
        },
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
    account_exists = await has_account(db, invitation.email)
    has_sso = await configuration_of(db, organization.id) is not None
    sso_only = bool(organization.require_sso)
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
            "has_account": account_exists,
            "has_sso": has_sso,
            "sso_only": sso_only,
            "signed_in": session_principal(request) is not None,
            "error": error,
            "errors": field_errors(error),
            "name": name,
        },
        status_code=error.status if error is not None else 200,
        headers=_NO_STORE,
    )


@router.get("/accept-invite/{key}/", dependencies=[public()], response_model=None)
async def accept_form(request: Request, key: str, db: Database) -> Response:
    try:
        invitation, organization = await find_usable_invitation(db, key)
    except InvitationUnusable as unusable:
        return unusable_page(request, unusable)
    principal = session_principal(request)
    user = principal.user if principal is not None else None
    if user is not None and user.email.lower() != invitation.email:
        return unusable_page(request, InvitationForSomeoneElse(invitation.email))
    return await _form(request, db, invitation, organization)


@router.post("/accept-invite/{key}/join/", response_model=None)
async def join(
    request: Request,
    key: str,
    form: PostedForm,
    principal: BrowserUser,
    db: Database,
) -> Response:
    """One click for someone already signed in with the invited email."""
    try:
        organization = await join_signed_in(
            db, key, principal, through_sso=False, ip_address=client_ip(request)
        )
    except InvitationUnusable as unusable:
        return unusable_page(request, unusable)
    response = redirect_with_flash(
        request, f"/settings/{organization.slug}/", f"Welcome to {organization.name}."
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/accept-invite/{key}/", dependencies=[public()], response_model=None)
async def accept(request: Request, key: str, db: Database) -> Response:
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
        return unusable_page(request, unusable)
    except ApiError as error:
        if error.status not in {400, 401}:
            raise
        try:
            invitation, organization = await find_usable_invitation(db, key)
        except InvitationUnusable as unusable:
            return unusable_page(request, unusable)
        return await _form(request, db, invitation, organization, error=error, name=name)
    organization = accepted.organization
    response: RedirectResponse = redirect_with_flash(
        request, f"/settings/{organization.slug}/", f"Welcome to {organization.name}."
    )
    set_session_cookie(request, response, accepted.session_key)
    response.headers["Cache-Control"] = "no-store"
    return response
