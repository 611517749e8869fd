"""The web admin: one-time sign-in links, each the record of the session it opened

Revision ID: 0011_web_admin
Revises: 0010_themes

Only the SHA-256 of a link's token is stored. A spent link holds its session's end and
when it was signed out, so that signing out ends the session on the server too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0011_web_admin'
down_revision = '0010_themes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_links',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('session_until', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('signed_out_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_web_links_token_hash')),
    )


def downgrade() -> None:
    op.drop_table('web_links')
