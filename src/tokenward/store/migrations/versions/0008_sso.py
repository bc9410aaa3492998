"""sso: OpenID Connect per organization, SSO sign-ins and personal-token authorizations

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def _fk(table: str, column: str, referred: str, ondelete: str = "CASCADE") -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{referred}.id"],
        name=op.f(f"fk_{table}_{column}_{referred}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("require_sso", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "sso_configurations",
        _id(),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),
        sa.Column("allowed_domains", sa.Text(), nullable=False),
        sa.Column("auto_provision", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        _fk("sso_configurations", "organization_id", "organizations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_configurations")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_sso_configurations_organization_id")),
    )
    op.create_table(
        "sso_identities",
        _id(),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("last_login_at", _TIME, nullable=False),
        _fk("sso_identities", "organization_id", "organizations"),
        _fk("sso_identities", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identities")),
        sa.UniqueConstraint(
            "organization_id",
            "issuer",
            "subject",
            name=op.f("uq_sso_identities_organization_id_issuer_subject"),
        ),
    )
    op.create_index(op.f("ix_sso_identities_user_id"), "sso_identities", ["user_id"])
    op.create_table(
        "sso_login_attempts",
        _id(),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_path", sa.String(length=500), nullable=True),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("token_id", _ID, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        _fk("sso_login_attempts", "organization_id", "organizations"),
        _fk("sso_login_attempts", "user_id", "users"),
        _fk("sso_login_attempts", "token_id", "personal_tokens"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_login_attempts")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_login_attempts_state_hash")),
    )
    op.create_table(
        "sso_session_sign_ins",
        _id(),
        sa.Column("login_session_id", _ID, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        _fk("sso_session_sign_ins", "login_session_id", "login_sessions"),
        _fk("sso_session_sign_ins", "organization_id", "organizations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_session_sign_ins")),
        sa.UniqueConstraint(
            "login_session_id",
            "organization_id",
            name=op.f("uq_sso_session_sign_ins_login_session_id_organization_id"),
        ),
    )
    op.create_index(
        op.f("ix_sso_session_sign_ins_organization_id"),
        "sso_session_sign_ins",
        ["organization_id"],
    )
    op.create_table(
        "sso_token_authorizations",
        _id(),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("token_id", _ID, nullable=False),
        sa.Column("membership_id", _ID, nullable=False),
        sa.Column("authorized_at", _TIME, nullable=False),
        _fk("sso_token_authorizations", "organization_id", "organizations"),
        _fk("sso_token_authorizations", "token_id", "personal_tokens"),
        _fk("sso_token_authorizations", "membership_id", "memberships"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_token_authorizations")),
        sa.UniqueConstraint(
            "organization_id",
            "token_id",
            name=op.f("uq_sso_token_authorizations_organization_id_token_id"),
        ),
    )
    op.create_index(
        op.f("ix_sso_token_authorizations_token_id"), "sso_token_authorizations", ["token_id"]
    )
    op.create_index(
        op.f("ix_sso_token_authorizations_membership_id"),
        "sso_token_authorizations",
        ["membership_id"],
    )


def downgrade() -> None:
    op.drop_table("sso_token_authorizations")
    op.drop_table("sso_session_sign_ins")
    op.drop_table("sso_login_attempts")
    op.drop_table("sso_identities")
    op.drop_table("sso_configurations")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("require_sso")
