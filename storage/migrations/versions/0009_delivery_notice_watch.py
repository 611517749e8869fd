"""Delivery notices: orders by the time their status changed, the estimate a delay passed

Revision ID: 0009_delivery_notice_watch
Revises: 0008_delivery_kpi_indexes

The scheduler's notice watch reads, every pass, the orders whose delivery status changed
in the last NOTICE_MAX_AGE: an index range rather than a scan of every order. A delay
notice keeps the estimate that passed, so a later estimate set meanwhile can be told.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0009_delivery_notice_watch'
down_revision = '0008_delivery_kpi_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('delivery_notices', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('estimate_at', storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_orders_delivery_status_at'), ['delivery_status_at'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_delivery_status_at'))
    with op.batch_alter_table('delivery_notices', schema=None) as batch_op:
        batch_op.drop_column('estimate_at')
