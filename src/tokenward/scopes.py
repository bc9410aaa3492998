"""The scopes a credential can carry: ``<resource>:<level>``. Imports nothing of ours."""

from __future__ import annotations

import enum

__all__ = ["Scope"]


class Scope(enum.StrEnum):
    """A scope. Members equal their strings, so stored ``"org:read"`` compares equal."""

    ORG_READ = "org:read"
    ORG_WRITE = "org:write"
    ORG_ADMIN = "org:admin"
    MEMBER_READ = "member:read"
    MEMBER_WRITE = "member:write"
    MEMBER_ADMIN = "member:admin"
    PROJECT_READ = "project:read"
    PROJECT_WRITE = "project:write"
    PROJECT_ADMIN = "project:admin"
