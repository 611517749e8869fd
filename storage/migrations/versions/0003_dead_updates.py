"""dead updates: updates given up on, kept for operators

Revision ID: 0003_dead_updates
Revises: 0002_order_versions
Create Date: 2026-12-01 20:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003_dead_updates"
down_revision = "0002_order_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_updates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("update_id", sa.String(length=64), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_updates")),
    )
    with op.batch_alter_table("dead_updates", schema=None) as batch_op:
        batch_op.create_index("ix_dead_updates_failed_at", ["failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dead_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_dead_updates_failed_at")
    op.drop_table("dead_updates")
