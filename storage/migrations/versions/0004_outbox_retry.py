"""outbox retry: a deadline per message, unknown outcomes, the follow-up of an invitation

Revision ID: 0004_outbox_retry
Revises: 0003_dead_updates
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004_outbox_retry"
down_revision = "0003_dead_updates"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deadline", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("unknowns", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("followup_id", BigId, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_followup_id_followups"),
            "followups",
            ["followup_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index("ix_outbox_followup_id", ["followup_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_followup_id")
        batch_op.drop_constraint(batch_op.f("fk_outbox_followup_id_followups"), type_="foreignkey")
        batch_op.drop_column("followup_id")
        batch_op.drop_column("unknowns")
        batch_op.drop_column("deadline")
