"""Changes that affect decisions, and their wire form on the PostgreSQL notification channel.

A payload names the changed record by kind and ids only (never a token, digest or session key),
e.g. ``organization:12`` or ``membership:12:7``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["CHANNEL", "Change", "ChangeKind"]

CHANNEL = "tokenward_changes"


class ChangeKind(enum.Enum):
    ORGANIZATION = "organization"  # settings or name: (organization id,)
    MEMBERSHIP = "membership"  # added, role changed or removed: (organization id, user id)
    PERSONAL_TOKEN = "personal-token"  # revoked: (token id,)
    ORGANIZATION_TOKEN = "organization-token"  # revoked: (token id,)
    SESSION = "session"  # ended: (login session id,)
    USER = "user"  # two-factor turned on or off: (user id,)
    REVOCATION = "revocation"  # personal token cut off from one organization: (org id, token id)


_ARITY = {ChangeKind.MEMBERSHIP: 2, ChangeKind.REVOCATION: 2}


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    ids: tuple[int, ...]

    @classmethod
    def organization(cls, organization_id: int) -> Change:
        return cls(ChangeKind.ORGANIZATION, (organization_id,))

    @classmethod
    def membership(cls, organization_id: int, user_id: int) -> Change:
        return cls(ChangeKind.MEMBERSHIP, (organization_id, user_id))

    @classmethod
    def personal_token(cls, token_id: int) -> Change:
        return cls(ChangeKind.PERSONAL_TOKEN, (token_id,))

    @classmethod
    def organization_token(cls, token_id: int) -> Change:
        return cls(ChangeKind.ORGANIZATION_TOKEN, (token_id,))

    @classmethod
    def session(cls, session_id: int) -> Change:
        return cls(ChangeKind.SESSION, (session_id,))

    @classmethod
    def user(cls, user_id: int) -> Change:
        return cls(ChangeKind.USER, (user_id,))

    @classmethod
    def revocation(cls, organization_id: int, token_id: int) -> Change:
        return cls(ChangeKind.REVOCATION, (organization_id, token_id))

    def encode(self) -> str:
        return ":".join([self.kind.value, *map(str, self.ids)])

    @classmethod
    def decode(cls, payload: str) -> Change | None:
        """The change a payload names, or None when it is not one of ours."""
        name, *parts = payload.split(":")
        try:
            kind = ChangeKind(name)
            ids = tuple(int(part) for part in parts)
        except ValueError:
            return None
        return cls(kind, ids) if len(ids) == _ARITY.get(kind, 1) else None
