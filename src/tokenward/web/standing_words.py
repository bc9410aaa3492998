"""A personal token's standing in one organization, in the words its owner reads."""

from __future__ import annotations

from tokenward.actions.token_standing import OrganizationStanding

__all__ = ["standing_phrase"]


def standing_phrase(entry: OrganizationStanding) -> str:
    name = entry.name
    if entry.standing == "allowed":
        if entry.would_be == "denied-by-policy":
            return f"works for now · {name} would deny it (report only)"
        if entry.would_be == "lifetime-exceeded":
            return f"works for now · exceeds {name}'s lifetime limit (report only)"
        if entry.would_be is not None:
            return f"works for now · {name} would refuse it (report only)"
        return "works"
    words = {
        "denied-by-policy": f"denied by {name}",
        "revoked-here": f"revoked for {name}",
        "2fa-required": "needs 2FA",
        "lifetime-exceeded": f"exceeds {name}'s lifetime limit",
    }
    return words.get(entry.standing, f"refused by {name} ({entry.code})")
