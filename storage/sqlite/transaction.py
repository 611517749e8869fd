"""The fast path's state in one transaction: the connection underneath and the write buffer.

A unit of work of small statements (``UnitOfWork(small=True)``) buffers the rows it
writes and does not read back (transcript lines, outbox rows, conversation states),
so that each kind is written in one executemany (on SQLite, for a whole group
commit; on PostgreSQL, one round trip instead of one per row). Reads still see them:

- a prepared statement first writes the buffered rows of the tables it touches
  (so an update's outbox rows wait while the next update reads its conversation);
- any statement through SQLAlchemy (ORM queries and flushes, Core, savepoints)
  first writes all of them, as does the COMMIT (engine events, ``watch``);
- a ROLLBACK forgets them.

The buffer exists only on our SQLite driver (``storage.sqlite.driver``) and on
PostgreSQL's asyncpg (``storage.sqlite.postgres``); elsewhere every write runs at once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.sqlite.buffers import PostgresBuffer, WriteBuffer
from storage.sqlite.compiled import Prepared
from storage.sqlite.driver import Connection, inline_enabled
from storage.sqlite.postgres import Direct

SMALL = "postsale_small"  # session info: this transaction buffers its writes
_BUFFER = "postsale_write_buffer"  # connection info: the open transaction's buffer
_STATE = "postsale_fast_path"  # session info: the transaction's FastPath


@dataclass
class FastPath:
    """What one transaction of a session may use, looked up once per transaction."""

    transaction: object
    savepoint: object  # the innermost savepoint it was looked up in, or None
    dialect: Dialect
    sqlite: sqlite3.Connection | None  # our driver's connection, else None
    buffer: WriteBuffer | PostgresBuffer | None
    postgres: Direct | None = None  # asyncpg, for prepared statements

    async def direct_postgres(self) -> Direct | None:
        """asyncpg when a statement may run on it (its transaction open, or opened now)."""
        postgres = self.postgres
        return postgres if postgres is not None and await postgres.ready() else None

    def direct(self) -> sqlite3.Connection | None:
        """The ``sqlite3`` connection when a statement may run on it right now."""
        sqlite = self.sqlite
        if sqlite is None or not inline_enabled() or not sqlite.in_transaction:
            return None
        return sqlite


async def fast_path(session: AsyncSession) -> FastPath:
    """The session's transaction's fast path (opening the transaction if needed).

    Looked up once per transaction (and savepoint): the lookup costs greenlet
    switches, more than the statement. The transaction keeps its connection until
    it ends. Asking the session for it also emits a pending SAVEPOINT, so that rows
    buffered in a savepoint are written inside it (and rolled back with it).
    """
    sync = session.sync_session
    transaction, savepoint = sync.get_transaction(), sync.get_nested_transaction()
    found: FastPath | None = session.info.get(_STATE)
    if (
        found is not None
        and transaction is not None
        and found.transaction is transaction
        and found.savepoint is savepoint
    ):
        return found
    conn = await session.connection()
    sqlite, postgres = None, None
    if conn.dialect.name == "sqlite":
        driver = (await conn.get_raw_connection()).driver_connection
        sqlite = driver.sqlite if isinstance(driver, Connection) else None
    elif conn.dialect.driver == "asyncpg":
        raw = await conn.get_raw_connection()
        postgres = Direct(raw.dbapi_connection, conn.dialect)
    buffer: WriteBuffer | PostgresBuffer | None = None
    if sqlite is not None and session.info.get(SMALL):
        buffer = conn.info.setdefault(_BUFFER, WriteBuffer(sqlite, conn.dialect))
    elif postgres is not None and session.info.get(SMALL):
        buffer = conn.info.setdefault(_BUFFER, PostgresBuffer(postgres))
    found = FastPath(
        sync.get_transaction(),
        sync.get_nested_transaction(),
        conn.dialect,
        sqlite,
        buffer,
        postgres,
    )
    session.info[_STATE] = found
    return found


async def before_statement(session: AsyncSession, statement: Prepared) -> FastPath:
    """Make the transaction's own writes visible to ``statement``; its fast path."""
    sync = session.sync_session
    if sync.new or sync.dirty or sync.deleted:
        await session.flush()  # ORM changes (the buffer goes first: engine events)
    found = await fast_path(session)
    buffer = found.buffer
    if isinstance(buffer, PostgresBuffer):
        await buffer.write_out(statement.tables)
    elif buffer is not None:
        buffer.flush(statement.tables)
    return found


def _flush_all(conn: SyncConnection, *_: Any) -> None:
    buffer: WriteBuffer | PostgresBuffer | None = conn.info.get(_BUFFER)
    if buffer is not None:
        buffer.flush()


def _commit(conn: SyncConnection) -> None:
    buffer: WriteBuffer | PostgresBuffer | None = conn.info.pop(_BUFFER, None)
    if buffer is not None:
        buffer.flush()


def _rollback(conn: SyncConnection) -> None:
    buffer: WriteBuffer | PostgresBuffer | None = conn.info.pop(_BUFFER, None)
    if buffer is not None:
        buffer.pending.clear()


def forget(info: dict[Any, Any]) -> None:
    """A connection goes back to the pool: whatever was buffered is gone with its transaction."""
    buffer: WriteBuffer | PostgresBuffer | None = info.pop(_BUFFER, None)
    if buffer is not None:
        buffer.pending.clear()


def watch(engine: AsyncEngine) -> None:
    """Write buffered rows before any statement through SQLAlchemy and before COMMIT."""
    sync = engine.sync_engine
    event.listen(sync, "before_execute", _flush_all)
    event.listen(sync, "commit", _commit)
    event.listen(sync, "rollback", _rollback)
