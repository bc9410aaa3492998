"""token usage counts

Per (token, organization, UTC day): how many requests the gate allowed and denied. Written in
batches by the usage recorder; owners read it to see who a policy change would break.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "token_usage",
        sa.Column("token_kind", sa.String(length=20), nullable=False),
        sa.Column("token_id", _ID, nullable=False),
        sa.Column("organization_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("allowed", sa.BigInteger(), nullable=False),
        sa.Column("denied", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_token_usage_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "token_kind", "token_id", "organization_id", "day", name=op.f("pk_token_usage")
        ),
    )
    with op.batch_alter_table("token_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_token_usage_organization_id_day"),
            ["organization_id", "day"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("token_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_usage_organization_id_day"))
    op.drop_table("token_usage")
