"""Delivery KPIs: orders by delivery time, survey answers by order, customers by zone

Revision ID: 0008_delivery_kpi_indexes
Revises: 0007_deliveries

The delivery KPIs read the orders delivered in a period (with their estimate and
customer, from the index alone) and the survey answers of those orders; without these
indexes both are whole-table scans on every /kpi (both cover what the KPIs read); on
SQLite the customers of each zone are found by their zone.
"""

from __future__ import annotations

from alembic import op


revision = '0008_delivery_kpi_indexes'
down_revision = '0007_deliveries'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(
            'ix_orders_delivered', ['delivered_at', 'estimated_delivery_at', 'customer_id'],
            unique=False,
        )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_timezone'), ['timezone'], unique=False)
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index(
            'ix_survey_responses_order', ['order_id', 'kind', 'score'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_timezone'))
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_order')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_delivered')
