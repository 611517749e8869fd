"""Deliveries: status, estimate and tracking on orders; delivery notices; webhook deliveries seen

Revision ID: 0007_deliveries
Revises: 0006_whatsapp
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types


revision = '0007_deliveries'
down_revision = '0006_whatsapp'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('delivery_id', sa.String(length=200), nullable=False),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('source', 'delivery_id', name=op.f('uq_webhook_deliveries_source'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_received_at'), ['received_at'], unique=False)

    op.create_table('delivery_notices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('skip_reason', sa.String(length=32), nullable=True),
    sa.Column('due_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_delivery_notices_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_delivery_notices_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_notices')),
    sa.UniqueConstraint('order_id', 'kind', name=op.f('uq_delivery_notices_order_id'))
    )
    with op.batch_alter_table('delivery_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_notices_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_delivery_notices_status_due_at', ['status', 'due_at'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('estimated_delivery_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delivery_status', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('delivery_status_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('tracking_url', sa.String(length=2048), nullable=True))
        batch_op.create_index(batch_op.f('ix_orders_estimated_delivery_at'), ['estimated_delivery_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_estimated_delivery_at'))
        batch_op.drop_column('tracking_url')
        batch_op.drop_column('delivery_status_at')
        batch_op.drop_column('delivery_status')
        batch_op.drop_column('estimated_delivery_at')

    with op.batch_alter_table('delivery_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_notices_status_due_at')
        batch_op.drop_index(batch_op.f('ix_delivery_notices_customer_id'))

    op.drop_table('delivery_notices')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_received_at'))

    op.drop_table('webhook_deliveries')
