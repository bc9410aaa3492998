"""organization rules: report mode, lifetime limit, two-factor, revoke-for-organization, outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "personal_token_enforcement",
                sa.String(length=10),
                nullable=False,
                server_default="enforce",
            )
        )
        batch_op.add_column(sa.Column("personal_token_max_lifetime_days", sa.Integer()))
        batch_op.add_column(
            sa.Column("require_2fa", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64)))
        batch_op.add_column(sa.Column("totp_pending_secret", sa.String(length=64)))
    with op.batch_alter_table("token_usage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("would_be_denied", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "personal_token_revocations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("token_id", _ID, nullable=False),
        sa.Column("revoked_by_id", _ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_personal_token_revocations_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["personal_tokens.id"],
            name=op.f("fk_personal_token_revocations_token_id_personal_tokens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["users.id"],
            name=op.f("fk_personal_token_revocations_revoked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_token_revocations")),
        sa.UniqueConstraint(
            "organization_id",
            "token_id",
            name=op.f("uq_personal_token_revocations_organization_id_token_id"),
        ),
    )
    op.create_index(
        op.f("ix_personal_token_revocations_token_id"),
        "personal_token_revocations",
        ["token_id"],
    )
    op.create_table(
        "outgoing_emails",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_emails")),
    )
    op.create_index("ix_outgoing_emails_pending", "outgoing_emails", ["sent_at", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outgoing_emails_pending", table_name="outgoing_emails")
    op.drop_table("outgoing_emails")
    op.drop_index(
        op.f("ix_personal_token_revocations_token_id"), table_name="personal_token_revocations"
    )
    op.drop_table("personal_token_revocations")
    with op.batch_alter_table("token_usage", schema=None) as batch_op:
        batch_op.drop_column("would_be_denied")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_pending_secret")
        batch_op.drop_column("totp_secret")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("require_2fa")
        batch_op.drop_column("personal_token_max_lifetime_days")
        batch_op.drop_column("personal_token_enforcement")
