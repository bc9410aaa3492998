"""Members' personal tokens as their organization sees them: usage, inventory, revoke-for-here.

Owners and managers only (``member:admin`` is the scope both roles hold and members lack).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from tokenward.actions.organization_rules import members_to_notify
from tokenward.actions.personal_token_access import inventory, revoke_here, usage_report
from tokenward.api.docs import GATED, errors
from tokenward.api.presenters import organization_settings_out, personal_token_out, user_out
from tokenward.api.schemas import (
    AffectedOut,
    PersonalTokenStandingOut,
    PersonalTokenUsageOut,
    TokenUsageOut,
    UsageDayOut,
    UsageTotalsOut,
)
from tokenward.auth.access import (
    BrowserMemberAdminAsManager,
    MemberAdminAsManager,
)
from tokenward.auth.organization_policy import policy_of
from tokenward.config import Settings
from tokenward.policy import OrganizationPolicy

router = APIRouter(prefix="/api/0/organizations/{org}", tags=["personal tokens"])


@router.get(
    "/personal-tokens/",
    response_model=list[PersonalTokenStandingOut],
    responses=errors(*GATED),
)
async def list_inventory(
    context: MemberAdminAsManager,
) -> list[PersonalTokenStandingOut]:
    """Every live personal token of a current member, and its standing in this organization."""
    return [
        PersonalTokenStandingOut(
            **personal_token_out(entry.token).model_dump(),
            last_used_here=entry.last_used_here,
            user=user_out(entry.user),
            role=entry.role.value,
            standing=entry.standing,
            would_be=entry.would_be,
            revoked_here_at=entry.revoked_here_at,
        )
        for entry in await inventory(context)
    ]


@router.delete("/personal-tokens/{token_id}/", status_code=204, responses=errors(*GATED))
async def revoke_for_organization(
    request: Request,
    token_id: str,
    context: BrowserMemberAdminAsManager,
) -> Response:
    """The token stops working here at once and keeps working elsewhere; its user is told."""
    settings: Settings = request.app.state.settings
    await revoke_here(context, token_id, settings.base_url, settings.notice_delay_seconds)
    return Response(status_code=204)


@router.get(
    "/personal-token-usage/",
    response_model=PersonalTokenUsageOut,
    responses=errors(400, *GATED),
)
async def personal_token_usage(
    context: MemberAdminAsManager,
    days: Annotated[int, Query(ge=1, le=90)] = 30,
    allow_personal_tokens: Annotated[
        bool | None, Query(description="Proposed: would personal tokens be allowed?")
    ] = None,
    personal_token_max_lifetime_days: Annotated[
        int | None, Query(ge=1, le=3650, description="Proposed lifetime limit, in days.")
    ] = None,
    require_2fa: Annotated[
        bool | None, Query(description="Proposed: would two-factor authentication be required?")
    ] = None,
) -> PersonalTokenUsageOut:
    """Who used personal tokens here, and whom the current or a proposed policy would affect."""
    current = policy_of(context.organization)
    proposed: OrganizationPolicy = current
    if allow_personal_tokens is not None:
        proposed = replace(proposed, allow_personal_tokens=allow_personal_tokens)
    if personal_token_max_lifetime_days is not None:
        proposed = replace(
            proposed, personal_token_max_lifetime_days=personal_token_max_lifetime_days
        )
    if require_2fa is not None:
        proposed = replace(proposed, require_2fa=require_2fa)
    report = await usage_report(context, days, proposed)
    to_notify = await members_to_notify(context.db, context.admitted, current, proposed)
    series = {day: [0, 0, 0] for day in report.days}
    for summary in report.tokens:
        for day, counts in summary.daily.items():
            for index, count in enumerate(counts):
                series[day][index] += count
    return PersonalTokenUsageOut(
        days=days,
        since=report.days[0],
        settings=organization_settings_out(current),
        proposed=organization_settings_out(proposed),
        series=[_day(day, counts) for day, counts in series.items()],
        tokens=[
            TokenUsageOut(
                token=personal_token_out(s.token),
                user=user_out(s.user),
                last_used_here=s.last_used_here,
                allowed=s.allowed,
                denied=s.denied,
                would_be_denied=s.would_be_denied,
                current_standing=s.current_standing,
                proposed_standing=s.proposed_standing,
                daily=[_day(day, counts) for day, counts in sorted(s.daily.items())],
            )
            for s in report.tokens
        ],
        totals=UsageTotalsOut(
            requests=report.totals["requests"],
            tokens_used=report.totals["tokens_used"],
            members_using=report.totals["members_using"],
            current_policy_affects=AffectedOut(**report.totals["current_policy_affects"]),
            proposed_policy_affects=AffectedOut(**report.totals["proposed_policy_affects"]),
            members_to_notify=to_notify,
        ),
    )


def _day(day: dt.date, counts: list[int]) -> UsageDayOut:
    return UsageDayOut(date=day, allowed=counts[0], denied=counts[1], would_be_denied=counts[2])
