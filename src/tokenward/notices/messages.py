"""The words of each notice. A notice names a token by its name and last four characters only."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["policy_change_notice", "revoked_here_notice", "two_factor_required_notice"]


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def _token(name: str, last_characters: str) -> str:
    return f'"{name}" (ending …{last_characters})'


def _instead(base_url: str, slug: str) -> str:
    return (
        "What to do instead: ask an owner or manager of the organization for an organization "
        f"token, which they manage at {base_url}/settings/{slug}/tokens/, and use it for "
        "automation in this organization. Your personal token keeps working in your other "
        "organizations."
    )


def policy_change_notice(
    *,
    organization_name: str,
    slug: str,
    changes: list[str],
    tokens: list[tuple[str, str]],
    base_url: str,
    needs_second_factor: bool = False,
) -> Notice:
    """Told to a member whose personal token(s) used the organization in the last 30 days."""
    listed = "\n".join(f"  - {_token(name, last)}" for name, last in tokens)
    what = "\n".join(f"  - {change}" for change in changes)
    body = (
        f"The organization {organization_name} ({slug}) changed its rules for personal API "
        f"tokens:\n{what}\n\n"
        f"Your personal tokens that used {slug} in the last 30 days:\n{listed}\n\n"
        f"{_instead(base_url, slug)}\n"
    )
    if needs_second_factor:
        body += "\n" + _enrol(base_url, slug)
    return Notice(f"[Tokenward] {organization_name} changed its personal token rules", body)


def _enrol(base_url: str, slug: str) -> str:
    return (
        f"{slug} now requires two-factor authentication, and your account has none yet: until "
        "you enrol an authenticator app, your sessions and personal tokens get "
        f"401 2fa-required there. Enrol at {base_url}/settings/account/security/ and sign in "
        "again.\n"
    )


def two_factor_required_notice(*, organization_name: str, slug: str, base_url: str) -> Notice:
    """Told to a member without a second factor when the organization starts requiring one."""
    body = f"The organization {organization_name} ({slug}) changed its rules.\n\n" + _enrol(
        base_url, slug
    )
    return Notice(f"[Tokenward] {organization_name} now requires two-factor authentication", body)


def revoked_here_notice(
    *,
    organization_name: str,
    slug: str,
    token_name: str,
    last_characters: str,
    actor: str,
    base_url: str,
) -> Notice:
    body = (
        f"{actor} revoked the access of your personal token {_token(token_name, last_characters)} "
        f"to the organization {organization_name} ({slug}). Requests it makes to {slug} now get "
        "403 personal-token-revoked.\n\n"
        f"{_instead(base_url, slug)}\n"
    )
    return Notice(f"[Tokenward] Your token can no longer reach {organization_name}", body)
