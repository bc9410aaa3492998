"""Audit entries in words: "Personal API tokens: allowed → denied" rather than raw JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokenward.store.tables import AuditLogEntry

__all__ = ["EVENT_TITLES", "describe", "event_title"]

_TITLES = {
    "org.create": "Organization created",
    "org.edit": "Organization changed",
    "member.add": "Member added",
    "member.edit": "Member changed",
    "member.remove": "Member removed",
    "member.invite": "Member invited",
    "member.invite-resend": "Invitation sent again",
    "member.invite-revoke": "Invitation revoked",
    "member.accept-invite": "Invitation accepted",
    "org-token.create": "Organization token created",
    "org-token.revoke": "Organization token revoked",
    "project.create": "Project created",
    "project.edit": "Project changed",
    "project.remove": "Project deleted",
    "personal-token.leaked": "Leaked personal token revoked",
    "org-token.leaked": "Leaked organization token revoked",
    "personal-token.revoke-access": "Personal token revoked for this organization",
    "user.recovery-code-used": "Recovery code used to sign in",
    "user.2fa-reset": "Two-factor authentication removed by an operator",
}
EVENT_TITLES: Mapping[str, str] = _TITLES


def event_title(event: str) -> str:
    """An event in words; one this page does not know yet is spelled out, never left raw."""
    if event in _TITLES:
        return _TITLES[event]
    subject, _, action = event.partition(".")
    words = f"{subject.replace('-', ' ')}: {action.replace('-', ' ')}" if action else subject
    return words[:1].upper() + words[1:]


_FIELDS = {
    "allow_personal_tokens": "Personal API tokens",
    "name": "Name",
    "role": "Role",
    "require_2fa": "Two-factor authentication",
    "personal_token_enforcement": "Personal token rules",
    "personal_token_max_lifetime_days": "Personal token lifetime limit",
}

_VALUES: Mapping[str, Mapping[Any, str]] = {
    "allow_personal_tokens": {True: "allowed", False: "denied"},
    "require_2fa": {True: "required", False: "not required"},
    "personal_token_enforcement": {"enforce": "enforced", "report": "reported only"},
}

_CREDENTIALS = {
    "session": "browser session",
    "personal-token": "personal token",
    "organization-token": "organization token",
}


@dataclass(frozen=True)
class AuditLine:
    title: str
    details: list[str]
    via: str


def _value(field: str, value: Any) -> str:
    words = _VALUES.get(field, {})
    if isinstance(value, bool | str) and value in words:
        return words[value]
    if value is None:
        return "none"
    if field == "personal_token_max_lifetime_days":
        return f"{value} days"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _changes(data: Mapping[str, Any]) -> list[str]:
    changes = data.get("changes")
    if not isinstance(changes, Mapping):
        return []
    lines = []
    for field, change in changes.items():
        if isinstance(change, Mapping):
            label = _FIELDS.get(field, field.replace("_", " ").capitalize())
            old, new = _value(field, change.get("old")), _value(field, change.get("new"))
            lines.append(f"{label}: {old} → {new}")
    return lines


def _token(data: Mapping[str, Any]) -> str:
    last = data.get("token_last_characters")
    return f"“{data.get('name', '')}”" + (f" (…{last})" if last else "")


def _leak(data: Mapping[str, Any]) -> list[str]:
    token = _token({**data, "name": data.get("token_name", data.get("name", ""))})
    owner = f" of {data['email']}" if data.get("email") else ""
    source = f" ({data['source']})" if data.get("source") else ""
    return [token + owner, f"Found at {data.get('url') or 'an unnamed place'}{source}"]


def _subject(event: str, data: Mapping[str, Any]) -> list[str]:
    if event.endswith(".leaked"):
        return _leak(data)
    if event.startswith("member.") and data.get("email"):
        as_role = event in {"member.add", "member.invite", "member.accept-invite"}
        role = f" as {data['role']}" if as_role and data.get("role") else ""
        was = f" (was {data['role']})" if event == "member.remove" and data.get("role") else ""
        source = " by the identity provider (SCIM)" if data.get("source") == "scim" else ""
        return [f"{data['email']}{role}{was}{source}"]
    if event.startswith("org-token."):
        scopes = data.get("scopes")
        listed = f", scopes {', '.join(map(str, scopes))}" if isinstance(scopes, list) else ""
        return [_token(data) + listed]
    if event.startswith("project.") and data.get("slug"):
        return [f"{data['slug']}" + (f" ({data['name']})" if data.get("name") else "")]
    if event == "org.create" and data.get("slug"):
        return [f"{data['slug']} ({data.get('name', '')})"]
    if event == "personal-token.revoke-access":
        name = data.get("token_name", "")
        last = data.get("token_last_characters")
        token = f"“{name}”" + (f" (…{last})" if last else "")
        owner = f" of {data['email']}" if data.get("email") else ""
        return [f"{token}{owner}: it no longer works here, and still works elsewhere"]
    if event.startswith("user.") and data.get("email"):
        left = data.get("remaining")
        return [str(data["email"])] + ([f"{left} recovery codes left"] if left is not None else [])
    return []


def _via(data: Mapping[str, Any]) -> str:
    credential = data.get("credential")
    if not isinstance(credential, Mapping):
        return ""
    kind = str(credential.get("kind", ""))
    words = _CREDENTIALS.get(kind, kind)
    last = credential.get("token_last_characters")
    return f"{words} …{last}" if last else words


def describe(entry: AuditLogEntry) -> AuditLine:
    data: Mapping[str, Any] = entry.data if isinstance(entry.data, Mapping) else {}
    return AuditLine(
        title=event_title(entry.event),
        details=_subject(entry.event, data) + _changes(data),
        via=_via(data),
    )
