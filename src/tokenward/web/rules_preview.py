"""What saving proposed personal-token rules would do, shown before the owner confirms.

Every number comes from the same actions the API's ``personal-token-usage`` endpoint uses: the
usage report judges each recently used token under the current and the proposed rules, and
``members_to_notify`` counts the people ``update_organization`` will email.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tokenward.actions.organization_rules import (
    members_to_notify,
    members_without_two_factor,
    newly_requires_2fa,
    tightens,
)
from tokenward.actions.organizations import SETTINGS_FIELDS
from tokenward.actions.personal_token_access import TokenUsageSummary, usage_report
from tokenward.auth.organization_context import OrganizationContext
from tokenward.auth.organization_policy import policy_of
from tokenward.policy import Enforcement, OrganizationPolicy
from tokenward.store.tables import User
from tokenward.web.rules_words import changes as changes_in_words
from tokenward.web.rules_words import mode_of
from tokenward.web.usage_chart import UsageChart, daily_totals, usage_chart

__all__ = ["WINDOW_DAYS", "RulesForm", "default_proposal", "preview", "proposal_from"]

WINDOW_DAYS = 30
_UNAFFECTED = frozenset({"allowed", "not-a-member"})


@dataclass(frozen=True)
class RulesForm:
    """The security form's values as drawn: the current settings, a proposal, or what was sent."""

    personal_tokens: str  # one of rules_words.MODES
    personal_token_max_lifetime_days: str
    require_2fa: bool

    @classmethod
    def of(cls, policy: OrganizationPolicy) -> RulesForm:
        limit = policy.personal_token_max_lifetime_days
        return cls(mode_of(policy), "" if limit is None else str(limit), policy.require_2fa)


def proposal_from(current: OrganizationPolicy, settings: dict[str, Any]) -> OrganizationPolicy:
    """The current rules with validated ``settings`` (as ``SettingsUpdate`` dumps them) applied."""
    changed = {field: settings[field] for field in SETTINGS_FIELDS if field in settings}
    if "personal_token_enforcement" in changed:
        changed["personal_token_enforcement"] = Enforcement(changed["personal_token_enforcement"])
    return replace(current, **changed)


def default_proposal(current: OrganizationPolicy) -> OrganizationPolicy:
    """The step an owner most likely weighs next: deny, or enforce a denial that is reported."""
    if current.allow_personal_tokens:
        return replace(current, allow_personal_tokens=False)
    if current.personal_token_enforcement is Enforcement.REPORT:
        return replace(current, personal_token_enforcement=Enforcement.ENFORCE)
    return current


@dataclass(frozen=True)
class Preview:
    current: OrganizationPolicy
    proposal: OrganizationPolicy
    changes: list[str]
    tightens: bool
    denies: bool  # personal tokens go from allowed to denied
    tokens: list[TokenUsageSummary]  # every personal token used here in the window
    affected_tokens: int
    affected_members: int
    members_to_notify: int
    chart: UsageChart
    requires_2fa: bool = False  # the proposal starts requiring a second factor
    members_without_2fa: tuple[User, ...] = ()

    @property
    def changes_tokens(self) -> bool:
        """Whether the proposal changes a personal-token rule (not only the 2FA requirement)."""
        current, proposal = self.current, self.proposal
        return replace(proposal, require_2fa=current.require_2fa) != current

    @property
    def affected(self) -> list[TokenUsageSummary]:
        return [s for s in self.tokens if s.proposed_standing not in _UNAFFECTED]

    @property
    def reports_only(self) -> bool:
        return self.proposal.personal_token_enforcement is Enforcement.REPORT


async def preview(context: OrganizationContext, proposal: OrganizationPolicy) -> Preview:
    current = policy_of(context.organization)
    report = await usage_report(context, WINDOW_DAYS, proposal)
    affects = report.totals["proposed_policy_affects"]
    changes = changes_in_words(current, proposal)
    requires_2fa = newly_requires_2fa(current, proposal)
    without_2fa = (
        tuple(await members_without_two_factor(context.db, context.admitted))
        if requires_2fa
        else ()
    )
    return Preview(
        current=current,
        proposal=proposal,
        changes=changes,
        tightens=tightens(current, proposal),
        denies=current.allow_personal_tokens and not proposal.allow_personal_tokens,
        tokens=report.tokens,
        affected_tokens=affects["tokens"],
        affected_members=affects["members"],
        members_to_notify=await members_to_notify(context.db, context.admitted, current, proposal),
        chart=usage_chart(daily_totals(report.days, (s.daily for s in report.tokens))),
        requires_2fa=requires_2fa,
        members_without_2fa=without_2fa,
    )
