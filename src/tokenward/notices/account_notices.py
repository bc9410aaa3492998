"""Notices about a person's own account: their second factor was bypassed or reset."""

from __future__ import annotations

from tokenward.notices.messages import Notice

__all__ = ["recovery_code_used_notice", "two_factor_reset_notice"]


def recovery_code_used_notice(*, remaining: int, ip_address: str | None) -> Notice:
    where = f" from {ip_address}" if ip_address else ""
    body = (
        f"A recovery code was just used to sign in to your Tokenward account{where}, instead of "
        f"a code from your authenticator app. {remaining} unused recovery code"
        f"{'' if remaining == 1 else 's'} left.\n\n"
        "If this was you, consider generating new recovery codes on your account security "
        "page (/settings/account/security/).\n"
        "If it was not, change your password now and tell an administrator.\n"
    )
    return Notice("[Tokenward] A recovery code was used to sign in", body)


def two_factor_reset_notice() -> Notice:
    body = (
        "An administrator removed two-factor authentication from your Tokenward account, "
        "with its recovery codes. Sign in with your password and set up an authenticator app "
        "again on your account security page (/settings/account/security/): organizations "
        "that require two-factor authentication refuse you until you do.\n\n"
        "If you did not ask for this, tell an administrator now.\n"
    )
    return Notice("[Tokenward] Two-factor authentication was removed from your account", body)
