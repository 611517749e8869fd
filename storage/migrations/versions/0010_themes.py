"""Themes: what each survey reason and ticket description is about, operators' corrections

Revision ID: 0010_themes
Revises: 0009_delivery_notice_watch

Each reason and description carries a theme (flows.themes) and who gave it ("model" or
"operator"); a correction is kept in theme_corrections. The answers' KPI index gains the
theme, so that the theme shares of a period are counted from the index alone, like NPS
and CSAT (it replaces the index without it, which it covers).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0010_themes'
down_revision = '0009_delivery_notice_watch'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('theme', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('theme_source', sa.String(length=8), nullable=True))
        batch_op.drop_index('ix_survey_responses_kind_answered_at')
        batch_op.create_index(
            'ix_survey_responses_kind_answered_theme',
            ['kind', 'answered_at', 'score', 'theme'],
            unique=False,
        )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('theme', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('theme_source', sa.String(length=8), nullable=True))
    op.create_table(
        'theme_corrections',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('old_theme', sa.String(length=24), nullable=True),
        sa.Column('new_theme', sa.String(length=24), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['response_id'], ['survey_responses.id'],
            name=op.f('fk_theme_corrections_response_id_survey_responses'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['ticket_id'], ['tickets.id'],
            name=op.f('fk_theme_corrections_ticket_id_tickets'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_theme_corrections')),
    )
    with op.batch_alter_table('theme_corrections', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_theme_corrections_response_id'), ['response_id'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_theme_corrections_ticket_id'), ['ticket_id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('theme_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_theme_corrections_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_theme_corrections_response_id'))
    op.drop_table('theme_corrections')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('theme_source')
        batch_op.drop_column('theme')
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_kind_answered_theme')
        batch_op.create_index(
            'ix_survey_responses_kind_answered_at', ['kind', 'answered_at', 'score'], unique=False
        )
        batch_op.drop_column('theme_source')
        batch_op.drop_column('theme')
