"""WhatsApp: receipts per sent message, long remote ids, chats unreachable on their own

Revision ID: 0006_whatsapp
Revises: 0005_scheduler
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006_whatsapp"
down_revision = "0005_scheduler"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "remote_id",
            existing_type=sa.String(length=64),
            type_=sa.String(length=128),
            existing_nullable=True,
        )
        batch_op.add_column(sa.Column("receipt", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("receipt_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("receipt_error", sa.Text(), nullable=True))
        batch_op.create_index("ix_outbox_remote", ["channel", "remote_id"], unique=False)
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unreachable_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.drop_column("unreachable_at")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_remote")
        batch_op.drop_column("receipt_error")
        batch_op.drop_column("receipt_at")
        batch_op.drop_column("receipt")
        batch_op.alter_column(
            "remote_id",
            existing_type=sa.String(length=128),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
