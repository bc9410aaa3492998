"""The words of leak notices. A notice names a token by its name and last four characters only."""

from __future__ import annotations

from tokenward.notices.messages import Notice

__all__ = ["leaked_organization_token_notice", "leaked_personal_token_notice"]


def where_found(url: str, source: str) -> str:
    place = url or "an unnamed place"
    return f"{place} (reported by {source})" if source else place


def leaked_personal_token_notice(
    *,
    token_name: str,
    last_characters: str,
    owner_email: str,
    organizations: list[tuple[str, str]],
    url: str,
    source: str,
    base_url: str,
    to_owner: bool,
) -> Notice:
    """Told to the token's user (``to_owner``) and to the owners of organizations it acted on."""
    token = f'"{token_name}" (ending …{last_characters})'
    acted = (
        "\n".join(f"  - {name} ({slug})" for name, slug in organizations)
        or "  (none in the last 90 days)"
    )
    if to_owner:
        opening = f"Your personal API token {token} was found in public"
        advice = (
            "It has been revoked: requests made with it now get 401 invalid-token. Create a new "
            f"token at {base_url}/settings/account/tokens/ if you still need one, keep it out of "
            "source code, and check what was done with the old one."
        )
    else:
        opening = f"The personal API token {token} of {owner_email} was found in public"
        advice = (
            "It has been revoked: requests made with it now get 401 invalid-token. It acted on "
            "your organization recently; check its audit log for what was done with it."
        )
    body = (
        f"{opening}: {where_found(url, source)}.\n\n"
        f"{advice}\n\n"
        f"Organizations it acted on in the last 90 days:\n{acted}\n"
    )
    return Notice("[Tokenward] A leaked personal token was revoked", body)


def leaked_organization_token_notice(
    *,
    token_name: str,
    last_characters: str,
    organization_name: str,
    slug: str,
    url: str,
    source: str,
    base_url: str,
) -> Notice:
    """Told to the owners of the organization the token belongs to."""
    body = (
        f'The organization token "{token_name}" (ending …{last_characters}) of '
        f"{organization_name} ({slug}) was found in public: {where_found(url, source)}.\n\n"
        "It has been revoked: requests made with it now get 401 invalid-token. Create a "
        f"replacement at {base_url}/settings/{slug}/tokens/ for whatever used it, and check the "
        "organization's audit log for what was done with it.\n"
    )
    return Notice(f"[Tokenward] A leaked token of {organization_name} was revoked", body)
