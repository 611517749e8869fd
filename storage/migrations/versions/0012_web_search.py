"""The web admin, part 2: the transcript's word index and the record of data-rights actions

Revision ID: 0012_web_search
Revises: 0011_web_admin

Searching the transcript for words is indexed on both databases, with the same meaning
(each word a case-insensitive substring of 3 characters or more): on SQLite an FTS5
table with the trigram tokenizer over ``messages.text`` (external content, kept by
triggers -- so /forget's blanking leaves the index too); on PostgreSQL a GIN trigram
index (``pg_trgm``) that serves ``ILIKE '%word%'``. ``web_actions`` records who exported
or forgot a customer from the web admin.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0012_web_search'
down_revision = '0011_web_admin'
branch_labels = None
depends_on = None

SQLITE_UP = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "text, content='messages', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages WHEN new.text IS NOT NULL BEGIN "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages WHEN old.text IS NOT NULL BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) "
    "SELECT 'delete', old.id, old.text WHERE old.text IS NOT NULL; "
    "INSERT INTO messages_fts(rowid, text) SELECT new.id, new.text WHERE new.text IS NOT NULL; "
    "END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS messages_fts_au",
    "DROP TRIGGER IF EXISTS messages_fts_ad",
    "DROP TRIGGER IF EXISTS messages_fts_ai",
    "DROP TABLE IF EXISTS messages_fts",
)
POSTGRES_UP = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_messages_text_trgm ON messages USING gin (text gin_trgm_ops)",
)


def upgrade() -> None:
    op.create_table(
        'web_actions',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=24), nullable=False),
        sa.Column('customer_id', sa.BigInteger(), nullable=True),
        sa.Column('detail', sa.String(length=500), nullable=True),
        sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_actions')),
    )
    op.create_index('ix_web_actions_customer_id', 'web_actions', ['customer_id'], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == 'sqlite' else POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for statement in SQLITE_DOWN:
            op.execute(statement)
    else:
        op.execute('DROP INDEX IF EXISTS ix_messages_text_trgm')
    op.drop_index('ix_web_actions_customer_id', table_name='web_actions')
    op.drop_table('web_actions')
