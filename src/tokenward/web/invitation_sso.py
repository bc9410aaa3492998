"""Accepting an invitation by signing in through the organization's SSO.

"Continue with SSO" keeps the link's key in a short-lived, signed, HTTP-only cookie and sends the
browser through the organization's ordinary SSO sign-in, whose ``next`` is always the fixed
``ACCEPT_INVITATION_PATH``: the key never travels in a URL to the identity provider and is never
stored (the sign-in attempt row holds only that fixed path). Back from the provider, the
continue page reads and clears the cookie and accepts the invitation for the signed-in account.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tokenward.actions.invitations import InvitationUnusable, find_usable_invitation
from tokenward.actions.signed_in_invitations import join_signed_in
from tokenward.auth.access import public
from tokenward.auth.caller import client_ip
from tokenward.auth.database import Database
from tokenward.http.signed_cookies import read_signed_cookie, set_signed_cookie
from tokenward.sso_urls import ACCEPT_INVITATION_PATH
from tokenward.web.flash import redirect_with_flash
from tokenward.web.invitations import unusable_page
from tokenward.web.templating import session_principal

__all__ = [
    "INVITATION_COOKIE",
    "INVITATION_COOKIE_SALT",
    "forget_invitation",
    "invitation_in_cookie",
]

router = APIRouter(include_in_schema=False)

INVITATION_COOKIE = "tokenward_invitation"
INVITATION_COOKIE_SALT = "tokenward.invitation-sso"
_MAX_AGE_SECONDS = 15 * 60


def invitation_in_cookie(request: Request) -> str | None:
    """The invitation key this browser holds, or None when it holds none, or a tampered or
    expired one."""
    return read_signed_cookie(
        request, INVITATION_COOKIE, salt=INVITATION_COOKIE_SALT, max_age=_MAX_AGE_SECONDS
    )


def forget_invitation(response: Response) -> None:
    response.delete_cookie(INVITATION_COOKIE, path="/")


@router.get(ACCEPT_INVITATION_PATH, dependencies=[public()], response_model=None)
async def accept_after_sso(request: Request, db: Database) -> Response:
    """Back from the organization's SSO: the invitation in the cookie joins the account the
    sign-in led to, when its email is the invited one."""
    key = invitation_in_cookie(request)
    principal = session_principal(request)
    response: Response
    if key is None:
        response = unusable_page(request, InvitationUnusable("cookie-lost"))
    elif principal is None:
        response = unusable_page(request, InvitationUnusable("sso-unfinished"))
    else:
        try:
            organization = await join_signed_in(
                db, key, principal, through_sso=True, ip_address=client_ip(request)
            )
        except InvitationUnusable as unusable:
            response = unusable_page(request, unusable)
        else:
            response = redirect_with_flash(
                request, f"/settings/{organization.slug}/", f"Welcome to {organization.name}."
            )
            response.headers["Cache-Control"] = "no-store"
    forget_invitation(response)
    return response


@router.get("/accept-invite/{key}/sso/", dependencies=[public()], response_model=None)
async def continue_with_sso(request: Request, key: str, db: Database) -> Response:
    """Keep the invitation in this browser and go through the organization's SSO sign-in."""
    try:
        _, organization = await find_usable_invitation(db, key)
    except InvitationUnusable as unusable:
        return unusable_page(request, unusable)
    slug = organization.slug
    await db.rollback()
    target = f"/auth/login/{quote(slug)}/?next=" + quote(ACCEPT_INVITATION_PATH, safe="/")
    response = RedirectResponse(target, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    set_signed_cookie(
        request,
        response,
        INVITATION_COOKIE,
        key,
        salt=INVITATION_COOKIE_SALT,
        max_age=_MAX_AGE_SECONDS,
    )
    return response
