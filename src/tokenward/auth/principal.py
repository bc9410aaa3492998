"""Who is calling: the principal a credential resolves to, or why it resolves to none."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tokenward.errors import ApiError
from tokenward.policy import Credential, CredentialKind

__all__ = ["ANONYMOUS", "ActorType", "Authentication", "Principal", "UserIdentity"]


@dataclass(frozen=True, slots=True)
class UserIdentity:
    id: int
    email: str
    name: str
    is_superuser: bool = False

    @property
    def display_name(self) -> str:
        return self.name or self.email


class ActorType(enum.Enum):
    USER = "user"
    ORGANIZATION_TOKEN = "org_token"


@dataclass(frozen=True, slots=True)
class Principal:
    """A resolved credential: a session or personal token (with a user) or an organization token.

    Never holds a token secret, only the token's id, name and last characters.
    """

    credential: Credential
    user: UserIdentity | None = None
    token_id: int | None = None
    token_name: str | None = None
    token_last_characters: str | None = None
    session_key_hash: str | None = None
    csrf_token: str | None = None

    @property
    def user_id(self) -> int:
        """The user's id, for routes that ``user_level`` has already limited to users."""
        assert self.user is not None, "an organization token has no user"
        return self.user.id

    @property
    def kind(self) -> CredentialKind:
        return self.credential.kind

    @property
    def is_session(self) -> bool:
        return self.credential.kind is CredentialKind.SESSION

    @property
    def organization_id(self) -> int | None:
        bound = self.credential.organization_id
        return int(bound) if bound is not None else None

    @property
    def actor_type(self) -> ActorType:
        return ActorType.USER if self.user is not None else ActorType.ORGANIZATION_TOKEN

    @property
    def actor_id(self) -> str:
        return str(self.user.id if self.user is not None else self.token_id)

    @property
    def actor_name(self) -> str:
        if self.user is not None:
            return self.user.display_name
        return self.token_name or "organization token"


@dataclass(frozen=True, slots=True)
class Authentication:
    """What the middleware found: a principal, an error to raise if one is needed, or neither."""

    principal: Principal | None = None
    error: ApiError | None = None


ANONYMOUS = Authentication()
