"""The security page's words, built from what a proposal actually changes, item by item.

Personal tokens are in one of three states an owner chooses between: allowed, report only
(denied, but requests pass and are counted) and denied. The confirmation dialog, its title and the
message after saving each say only what differs between the current rules and the proposal.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from tokenward.policy import Enforcement, OrganizationPolicy

__all__ = ["MODES", "changes", "consequences", "mode_of", "saved_message", "settings_for_mode"]

# The three states of personal tokens, as the form offers them.
MODES = {"allowed": "allowed", "report": "report only", "denied": "denied"}


def mode_of(policy: OrganizationPolicy) -> str:
    if policy.allow_personal_tokens:
        return "allowed"
    return "report" if policy.personal_token_enforcement is Enforcement.REPORT else "denied"


def settings_for_mode(mode: str, current: OrganizationPolicy) -> dict[str, object]:
    """The API's settings for a chosen state. "Allowed" keeps the enforcement as it is, so a
    lifetime limit that is only reported stays reported."""
    if mode == "report":
        return {"allow_personal_tokens": False, "personal_token_enforcement": "report"}
    if mode == "denied":
        return {"allow_personal_tokens": False, "personal_token_enforcement": "enforce"}
    return {
        "allow_personal_tokens": True,
        "personal_token_enforcement": current.personal_token_enforcement.value,
    }


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


def _limit(days: int | None) -> str:
    return "no limit" if days is None else _plural(days, "day")


def _reports(policy: OrganizationPolicy) -> bool:
    return policy.personal_token_enforcement is Enforcement.REPORT


def changes(current: OrganizationPolicy, proposal: OrganizationPolicy) -> list[str]:
    """Each changed setting in words, e.g. "Personal API tokens: allowed → report only"."""
    found = []
    old_mode, new_mode = mode_of(current), mode_of(proposal)
    if old_mode != new_mode:
        found.append(f"Personal API tokens: {MODES[old_mode]} → {MODES[new_mode]}")
    old_limit = current.personal_token_max_lifetime_days
    new_limit = proposal.personal_token_max_lifetime_days
    if old_limit != new_limit:
        found.append(f"Maximum personal token lifetime: {_limit(old_limit)} → {_limit(new_limit)}")
    if current.require_2fa != proposal.require_2fa:
        words = {True: "required", False: "not required"}
        found.append(
            "Two-factor authentication: "
            f"{words[current.require_2fa]} → {words[proposal.require_2fa]}"
        )
    return found


@dataclass(frozen=True)
class Consequences:
    title: str
    confirm_label: str
    items: list[Markup]


def _code(text: str) -> Markup:
    return Markup("<code>{}</code>").format(text)


def _mode_items(
    current: OrganizationPolicy, proposal: OrganizationPolicy, name: str, at_stake: str
) -> list[Markup]:
    old, new = mode_of(current), mode_of(proposal)
    if old == new:
        return []
    if new == "denied":
        if old == "report":
            return [
                Markup(
                    "Requests with a member's personal token will be refused with {} instead of "
                    "only being reported."
                ).format(_code("403 personal-token-denied"))
            ]
        return [
            Markup(
                "Every script, CI job or tool that uses a member's personal token against {} will "
                "stop working and get {}.{}"
            ).format(name, _code("403 personal-token-denied"), at_stake),
            Markup("Personal tokens will no longer list {} among their organizations.").format(
                name
            ),
        ]
    if new == "report":
        return [
            Markup(
                "Nothing breaks yet: requests with a member's personal token keep working, marked "
                "{}, and are counted as would-be denials."
            ).format(_code("Tokenward-Report-Only"))
        ]
    return [Markup("Members' personal tokens work in {} again.").format(name)]


def _lifetime_items(current: OrganizationPolicy, proposal: OrganizationPolicy) -> list[Markup]:
    old, new = current.personal_token_max_lifetime_days, proposal.personal_token_max_lifetime_days
    refused = "are only reported" if _reports(proposal) else "are refused"
    if new is not None and (old != new or _reports(current) != _reports(proposal)):
        return [
            Markup(
                "Personal tokens with no expiry, or minted to live longer than {}, {} with {}."
            ).format(_plural(new, "day"), refused, _code("403 personal-token-lifetime-exceeded"))
        ]
    if new is None and old is not None:
        return [Markup("Personal tokens of any lifetime are accepted.")]
    return []


def consequences(
    current: OrganizationPolicy,
    proposal: OrganizationPolicy,
    *,
    name: str,
    tokens_at_stake: int,
    holders_at_stake: int,
    affected_tokens: int,
    affected_members: int,
    members_to_notify: int,
    without_2fa: list[str],
    window_days: int,
) -> Consequences:
    """What saving ``proposal`` does, one line per change, then whom it reaches."""
    at_stake = ""
    if tokens_at_stake:
        at_stake = (
            f" Right now that is {_plural(tokens_at_stake, 'token')} held by "
            f"{_plural(holders_at_stake, 'member')}."
        )
    items = _mode_items(current, proposal, name, at_stake) + _lifetime_items(current, proposal)
    changes_tokens = bool(items)
    requires_2fa = proposal.require_2fa and not current.require_2fa
    if requires_2fa:
        names = ", ".join(without_2fa[:5]) + (", …" if len(without_2fa) > 5 else "")
        items.append(
            Markup(
                "<strong>{} without two-factor authentication</strong>{} will be refused with {}, "
                "in the browser and with personal tokens, until they enrol an authenticator app."
            ).format(
                _plural(len(without_2fa), "member"),
                f" ({names})" if names else "",
                _code("401 2fa-required"),
            )
        )
    elif current.require_2fa and not proposal.require_2fa:
        items.append(Markup("Members without two-factor authentication can act here again."))
    stops = mode_of(proposal) == "denied" or (
        proposal.personal_token_max_lifetime_days is not None and not _reports(proposal)
    )
    if changes_tokens and (stops or mode_of(proposal) == "report"):
        verb = "would be stopped" if stops else "would be reported"
        items.append(
            Markup("In the last {} days, {} held by {} used {} and {}.").format(
                window_days,
                _plural(affected_tokens, "token"),
                _plural(affected_members, "member"),
                name,
                verb,
            )
        )
    if members_to_notify:
        how = (
            "with the names of their tokens and how to move to organization tokens"
            if changes_tokens
            else "with how to enrol"
        )
        items.append(
            Markup("<strong>{} will be told by email</strong>, {}.").format(
                _people(members_to_notify), how
            )
        )
    if changes_tokens or requires_2fa:
        items.append(
            Markup("Organization tokens keep working.")
            if requires_2fa
            else Markup(
                "Browser sessions and organization tokens keep working. "
                "Move automation to organization tokens."
            )
        )
    return Consequences(*_title(current, proposal, name), items)


def _title(current: OrganizationPolicy, proposal: OrganizationPolicy, name: str) -> tuple[str, str]:
    old_mode, new_mode = mode_of(current), mode_of(proposal)
    kinds = []
    if old_mode != new_mode:
        kinds.append(("mode", new_mode))
    if current.personal_token_max_lifetime_days != proposal.personal_token_max_lifetime_days:
        kinds.append(("lifetime", ""))
    if current.require_2fa != proposal.require_2fa:
        kinds.append(("2fa", ""))
    if len(kinds) == 1:
        kind, value = kinds[0]
        if kind == "mode" and value == "denied":
            if old_mode == "report":
                return f"Enforce the denial of personal API tokens in {name}?", "Enforce denial"
            return f"Deny personal API tokens in {name}?", "Deny personal tokens"
        if kind == "mode" and value == "report":
            return f"Report personal API tokens in {name}?", "Start reporting"
        if kind == "lifetime":
            return f"Limit personal token lifetimes in {name}?", "Set the limit"
        if kind == "2fa" and proposal.require_2fa:
            return f"Require two-factor authentication in {name}?", "Require 2FA"
    return f"Change the rules of {name}?", "Confirm changes"


def saved_message(
    current: OrganizationPolicy, proposal: OrganizationPolicy, name: str, told: int
) -> str:
    """After saving: what changed, and whom that emails; nothing about what stayed the same."""
    found = changes(current, proposal)
    if not found:
        return f"Saved. Nothing changed in {name}."
    message = "Saved. " + "; ".join(found) + "."
    if mode_of(proposal) == "report" and mode_of(current) != "report":
        message += " Nothing breaks yet: requests pass and are counted."
    if told:
        message += f" {_plural(told, 'member')} will be told by email."
    return message
