"""Invitations of an organization: list, resend, revoke (adding an unknown email creates one)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from tokenward.actions.invitations import (
    invitation_status,
    pending_invitations_of,
    resend_invitation,
    revoke_invitation,
)
from tokenward.api.docs import GATED, errors
from tokenward.api.pagination import PageQuery, paginate
from tokenward.auth.access import MemberRead, MemberWrite
from tokenward.invitation_sending import invitation_links, wake_outbox
from tokenward.store.tables import Invitation

__all__ = ["InvitationOut", "invitation_out"]

router = APIRouter(prefix="/api/0/organizations/{org}/invitations", tags=["members"])


class InvitationOut(BaseModel):
    id: str
    email: str
    role: Literal["member", "manager", "owner"]
    status: Literal["invited", "expired"]
    created_at: dt.datetime
    expires_at: dt.datetime


def invitation_out(invitation: Invitation) -> InvitationOut:
    status = invitation_status(invitation)
    return InvitationOut(
        id=str(invitation.id),
        email=invitation.email,
        role=invitation.role,
        status="expired" if status == "expired" else "invited",
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


@router.get("/", response_model=list[InvitationOut], responses=errors(400, *GATED))
async def list_invitations(
    request: Request,
    response: Response,
    page: PageQuery,
    context: MemberRead,
) -> list[InvitationOut]:
    query = pending_invitations_of(context.admitted)
    rows = await paginate(context.db, query, Invitation.id, page, request, response)
    return [invitation_out(row[0]) for row in rows]


@router.post("/{invitation_id}/resend/", response_model=InvitationOut, responses=errors(*GATED))
async def resend(
    request: Request,
    invitation_id: str,
    context: MemberWrite,
) -> InvitationOut:
    invitation = await resend_invitation(context, invitation_id, links=invitation_links(request))
    wake_outbox(request)
    return invitation_out(invitation)


@router.delete("/{invitation_id}/", status_code=204, responses=errors(*GATED))
async def revoke(
    invitation_id: str,
    context: MemberWrite,
) -> Response:
    await revoke_invitation(context, invitation_id)
    return Response(status_code=204)
