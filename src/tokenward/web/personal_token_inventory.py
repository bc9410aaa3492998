"""Members' personal tokens as this organization sees them, and revoke-for-this-organization.

Owners and managers (``member:admin``, the scope both roles hold and members lack), as in the API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tokenward.actions.leaked_token_lists import leaked_member_tokens
from tokenward.actions.personal_token_access import inventory, revoke_here
from tokenward.auth.access import BrowserMemberAdminAsManager
from tokenward.auth.form_csrf import PostedForm
from tokenward.errors import ApiError
from tokenward.policy import Enforcement
from tokenward.store.ids import parse_id
from tokenward.web.flash import redirect_with_flash
from tokenward.web.layout import STANDING_WORDS, organization_page, organization_url

router = APIRouter(include_in_schema=False)

PAGE = "/settings/{org}/personal-tokens/"


@router.get(PAGE)
async def personal_tokens(
    request: Request,
    context: BrowserMemberAdminAsManager,
) -> HTMLResponse:
    organization = context.organization
    return organization_page(
        request,
        context,
        "organization_personal_tokens.html",
        "personal-tokens",
        {
            "entries": await inventory(context),
            "leaked": await leaked_member_tokens(context.db, organization.id),
            "standing_words": STANDING_WORDS,
            "reporting": not organization.allow_personal_tokens
            and organization.personal_token_enforcement == Enforcement.REPORT.value,
        },
    )


@router.post(PAGE + "{token_id}/revoke/", response_model=None)
async def revoke(
    request: Request,
    token_id: str,
    form: PostedForm,
    context: BrowserMemberAdminAsManager,
) -> Response:
    wanted = parse_id(token_id)
    entry = next((e for e in await inventory(context) if e.token.id == wanted), None)
    if entry is None:
        raise ApiError.not_found()
    settings = request.app.state.settings
    await revoke_here(context, token_id, settings.base_url, settings.notice_delay_seconds)
    token, user = entry.token, entry.user
    return redirect_with_flash(
        request,
        organization_url(context, "personal-tokens/"),
        f"“{token.name}” (…{token.token_last_characters}) of {user.name or user.email} no longer "
        f"works in {context.organization.name}. It keeps working in their other organizations; "
        f"{user.email} will be told by email.",
    )
