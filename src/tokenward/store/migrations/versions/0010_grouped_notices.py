"""grouped notices: a notice's topic and the state it was computed from; sender claims

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outgoing_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("topic", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("state", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("claim", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outgoing_emails_recipient_topic", "outgoing_emails", ["recipient", "topic"])


def downgrade() -> None:
    op.drop_index("ix_outgoing_emails_recipient_topic", table_name="outgoing_emails")
    with op.batch_alter_table("outgoing_emails", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claim")
        batch_op.drop_column("state")
        batch_op.drop_column("topic")
