"""What admission records of each decision: metrics by outcome and code, and token usage."""

from __future__ import annotations

from tokenward.auth.principal import Principal
from tokenward.auth.usage import UsageRecorder
from tokenward.metrics import Metrics
from tokenward.policy import Decision

__all__ = ["DecisionRecorder"]


class DecisionRecorder:
    def __init__(self, metrics: Metrics, usage: UsageRecorder) -> None:
        self.metrics = metrics
        self.usage = usage

    def record(self, principal: Principal, organization_id: int | None, decision: Decision) -> None:
        outcome = "allowed" if decision.allowed else "denied"
        if decision.report_only is not None:
            outcome = "reported"
        code = decision.code or decision.report_only or "ok"
        self.metrics.decisions.labels(outcome, code).inc()
        self.metrics.worker_decisions.labels(code).inc()
        # An outsider's request (404) is no use of the organization: never count or show it there.
        member_or_bound = decision.code != "not-found"
        if organization_id is not None and principal.token_id is not None and member_or_bound:
            self.usage.decided(
                principal.kind,
                principal.token_id,
                organization_id,
                decision.allowed,
                would_be_denied=decision.report_only is not None,
            )
