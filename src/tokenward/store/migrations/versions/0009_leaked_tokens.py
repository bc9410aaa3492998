"""leaked tokens: why a token was revoked, and the quota of leak reports per user and hour

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    for table in ("personal_tokens", "organization_tokens"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("revocation_reason", sa.String(length=20)))
    op.create_table(
        "leak_report_quota",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("window", sa.BigInteger(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_leak_report_quota_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "window", name=op.f("pk_leak_report_quota")),
    )


def downgrade() -> None:
    op.drop_table("leak_report_quota")
    for table in ("organization_tokens", "personal_tokens"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("revocation_reason")
