"""The token forms' fields: a level per resource instead of nine scope checkboxes, expiry
presets, and a refusal of a name already in use. Shared by personal and organization tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from starlette.datastructures import FormData

from tokenward.errors import ApiError
from tokenward.web.forms import text

__all__ = [
    "EXPIRY_PRESETS",
    "LEVEL_WORDS",
    "RESOURCES",
    "duplicate_name_error",
    "expiry_from_form",
    "expiry_preview",
    "levels_of",
    "scopes_from_form",
]

LEVELS = ("none", "read", "write", "admin")
LEVEL_WORDS = {"none": "No access", "read": "Read", "write": "Write", "admin": "Admin"}


@dataclass(frozen=True)
class Resource:
    key: str
    label: str
    meanings: dict[str, str]  # level -> what it allows


RESOURCES = (
    Resource(
        "org",
        "Organization",
        {
            "read": "see the organization and its settings",
            "write": "also rename it and change what settings the role allows",
            "admin": "no more than Write today; kept for owner-only actions",
        },
    ),
    Resource(
        "member",
        "Members",
        {
            "read": "list members",
            "write": "also add members, change roles and remove members",
            "admin": "also see members' personal tokens and revoke one for the organization",
        },
    ),
    Resource(
        "project",
        "Projects",
        {
            "read": "list and read projects",
            "write": "also create and edit projects",
            "admin": "also delete projects",
        },
    ),
)

# Days ahead, or "custom" (a date) and "never".
EXPIRY_PRESETS = (("7", "7 days"), ("30", "30 days"), ("90", "90 days"))


def levels_of(scopes: Iterable[str]) -> dict[str, str]:
    """The level each resource has: the highest one whose scope is present."""
    given = set(scopes)
    found = {}
    for resource in RESOURCES:
        level = "none"
        for candidate in LEVELS[1:]:
            if f"{resource.key}:{candidate}" in given:
                level = candidate
        found[resource.key] = level
    return found


def scopes_from_form(form: FormData, allowed: Collection[str]) -> list[str]:
    """Each resource's level as scopes: a level brings the ones below it (Write reads too).
    A form without levels (an older page, a script) may still send ``scopes``."""
    if not any(f"level_{r.key}" in form for r in RESOURCES):
        return [value for value in form.getlist("scopes") if isinstance(value, str)]
    scopes = []
    for resource in RESOURCES:
        level = text(form, f"level_{resource.key}") or "none"
        if level not in LEVELS:
            raise ApiError.invalid("scopes", f"choose a level for {resource.label.lower()}")
        for granted in LEVELS[1 : LEVELS.index(level) + 1]:
            scope = f"{resource.key}:{granted}"
            if scope in allowed:
                scopes.append(scope)
    return scopes


def last_working_day(expires_on: dt.date) -> dt.date:
    """A token expiring on a day stops at 00:00 UTC that day: the day before is its last."""
    return expires_on - dt.timedelta(days=1)


def expiry_from_form(form: FormData, today: dt.date) -> tuple[str, str]:
    """(preset, expiry date as text or "") from the form's preset and custom date."""
    preset = text(form, "expires_in") or ("custom" if text(form, "expires_on") else "never")
    if preset.isdigit():
        return preset, (today + dt.timedelta(days=int(preset))).isoformat()
    if preset == "custom":
        return preset, text(form, "expires_on")
    return "never", ""


def duplicate_name_error(name: str, names_in_use: Iterable[str]) -> ApiError | None:
    wanted = name.strip().casefold()
    if wanted and any(existing.strip().casefold() == wanted for existing in names_in_use):
        return ApiError.invalid(
            "name", f"A live token is already named “{name.strip()}”: choose another name."
        )
    return None


def expiry_preview(preset: str, expires_on: str, today: dt.date) -> dict[str, str]:
    """The words under the expiry choice (the script redraws them as the choice changes)."""
    if preset == "never":
        words = "Never expires. Organizations with a lifetime limit refuse such tokens."
    else:
        try:
            day = dt.date.fromisoformat(expires_on)
        except ValueError:
            day = None
        if day is None:
            words = "Pick the date it stops working."
        else:
            words = (
                f"Last working day: {last_working_day(day).isoformat()} (UTC). "
                f"It stops at 00:00 UTC on {day.isoformat()}."
            )
    return {"today": today.isoformat(), "text": words}
