"""The schema. Alembic migrations under ``migrations/`` create it; this module describes it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false

__all__ = [
    "SLUG_PATTERN",
    "AttemptCounter",
    "AuditLogEntry",
    "Base",
    "Identifier",
    "Invitation",
    "LoginSession",
    "Membership",
    "Organization",
    "OrganizationToken",
    "OutgoingEmail",
    "PersonalToken",
    "PersonalTokenRevocation",
    "Project",
    "ScimUser",
    "SsoConfiguration",
    "SsoIdentity",
    "SsoLoginAttempt",
    "SsoSessionSignIn",
    "SsoTokenAuthorization",
    "UTCDateTime",
    "User",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# What a slug may be (organizations and projects): lowercase ASCII, digits and inner hyphens.
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$"

Identifier = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so it is restored on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
        return value.astimezone(dt.UTC)  # type: ignore[no-any-return]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    # Base32 TOTP secret of an enrolled authenticator; the pending one awaits its first code.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    # The time step of the last code accepted, so that no code is accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"User(id={self.id}, email={self.email!r})"

    @property
    def has_two_factor(self) -> bool:
        return self.totp_secret is not None


class LoginSession(Base):
    """A browser session. The cookie carries a random key; only its SHA-256 is kept."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    # What the sign-in proved: a session opened before its user enrolled a second factor
    # never counts as two-factor.
    two_factor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    allow_personal_tokens: Mapped[bool] = mapped_column(Boolean, default=True)
    personal_token_enforcement: Mapped[str] = mapped_column(String(10), default="enforce")
    personal_token_max_lifetime_days: Mapped[int | None] = mapped_column(Integer)
    require_2fa: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    require_sso: Mapped[bool] = mapped_column(Boolean, default=False)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PersonalToken(Base):
    __tablename__ = "personal_tokens"

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_last_characters: Mapped[str] = mapped_column(String(4))
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Why it was revoked when it was not its owner's choice: "leaked" (0009).
    revocation_reason: Mapped[str | None] = mapped_column(String(20))

    def __repr__(self) -> str:
        return f"PersonalToken(id={self.id}, last_characters={self.token_last_characters!r})"


class OrganizationToken(Base):
    __tablename__ = "organization_tokens"

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_last_characters: Mapped[str] = mapped_column(String(4))
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Why it was revoked when it was not its owner's choice: "leaked" (0009).
    revocation_reason: Mapped[str | None] = mapped_column(String(20))

    def __repr__(self) -> str:
        return f"OrganizationToken(id={self.id}, last_characters={self.token_last_characters!r})"


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("organization_id", "slug"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PersonalTokenRevocation(Base):
    """A personal token an owner or manager cut off from one organization (it works elsewhere)."""

    __tablename__ = "personal_token_revocations"
    __table_args__ = (UniqueConstraint("organization_id", "token_id"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    token_id: Mapped[int] = mapped_column(
        ForeignKey("personal_tokens.id", ondelete="CASCADE"), index=True
    )
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutgoingEmail(Base):
    """The outbox: notices are queued with the change that causes them, and sent later."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (
        Index("ix_outgoing_emails_pending", "sent_at", "next_attempt_at"),
        Index("ix_outgoing_emails_recipient_topic", "recipient", "topic"),
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Grouped notices: what the notice is about ("org:12:rules"); a recipient's held notices go
    # out as one email. None: sent on its own at once (security notices, invitations).
    topic: Mapped[str | None] = mapped_column(String(80))
    # What a held notice was computed from, so that a later change can recompute it.
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The sender pass that took the notice (kept once sent: the notices of one email share it),
    # and until when no other pass may take it.
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AuditLogEntry(Base):
    __tablename__ = "audit_log_entries"
    __table_args__ = (Index("ix_audit_log_entries_org_id_desc", "organization_id", "id"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(40))
    actor_name: Mapped[str] = mapped_column(String(254))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AttemptCounter(Base):
    """Sign-in and second-factor attempts in the current window, per (hashed) email, address or
    user: in the store, so every process counts against the same limit."""

    __tablename__ = "attempt_counters"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_started: Mapped[float] = mapped_column(Float)  # Unix time, shared across machines
    attempts: Mapped[int] = mapped_column(Integer)


class Invitation(Base):
    """An emailed, single-use link to join an organization. Only the SHA-256 of its key is kept."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ScimUser(Base):
    """A person an organization's identity provider manages through SCIM.

    The record outlives a deactivation (``active`` false, no membership) so that the identity
    provider can still read it and turn it on again; deleting it ends both.
    """

    __tablename__ = "scim_users"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    role: Mapped[str] = mapped_column(String(20))
    # The other attributes the identity provider sent (never a password), returned as sent.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SsoConfiguration(Base):
    """An organization's OpenID Connect identity provider. The client secret is never shown."""

    __tablename__ = "sso_configurations"

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), unique=True
    )
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[str] = mapped_column(Text)
    allowed_domains: Mapped[str] = mapped_column(Text, default="")  # space-separated
    auto_provision: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"SsoConfiguration(id={self.id}, issuer={self.issuer!r})"


class SsoIdentity(Base):
    """A person at an organization's identity provider (issuer + subject), linked to a user."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("organization_id", "issuer", "subject"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SsoLoginAttempt(Base):
    """A sign-in sent to the identity provider and not yet back. Used once, then deleted.

    Only the state's SHA-256 is kept; nonce and PKCE verifier live for a few minutes.
    """

    __tablename__ = "sso_login_attempts"

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str | None] = mapped_column(String(500))
    # Set when the flow authorizes a personal token of this user for the organization.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("personal_tokens.id", ondelete="CASCADE")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SsoSessionSignIn(Base):
    """A browser session that signed in through an organization's identity provider."""

    __tablename__ = "sso_session_sign_ins"
    __table_args__ = (UniqueConstraint("login_session_id", "organization_id"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    login_session_id: Mapped[int] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE")
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SsoTokenAuthorization(Base):
    """A personal token its user authorized for one organization through an SSO flow.

    Bound to the membership: when the member leaves, the authorization goes with it.
    """

    __tablename__ = "sso_token_authorizations"
    __table_args__ = (UniqueConstraint("organization_id", "token_id"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    token_id: Mapped[int] = mapped_column(
        ForeignKey("personal_tokens.id", ondelete="CASCADE"), index=True
    )
    membership_id: Mapped[int] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True
    )
    authorized_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
