"""Engine and session setup: SQLite (WAL, busy timeout) by default, PostgreSQL by URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite import driver as sqlite_driver
from storage.sqlite import transaction as sqlite_transaction

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "postsale_read_only"  # execution option: this transaction only reads


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, fast_path: bool = True, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for ``url`` with the per-backend settings we rely on.

    ``fast_path`` (SQLite): our driver (``storage.sqlite.driver``), with which units
    of work of small statements run them inline and buffer their writes; off, plain
    aiosqlite under plain SQLAlchemy.
    """
    if is_sqlite(url):
        # Transactions are SQLAlchemy's BEGIN (below), never sqlite3's implicit ones.
        connect_args: dict[str, Any] = {
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            "isolation_level": None,
        }
        if fast_path:
            connect_args["async_creator_fn"] = sqlite_driver.connect
            # The pool's reset is ours (below): no ROLLBACK when nothing is open.
            kwargs.setdefault("pool_reset_on_return", None)
        engine = create_async_engine(url, connect_args=connect_args, **kwargs)
        _tune_sqlite(engine)
        if fast_path:
            _tune_fast_path(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # SQLAlchemy's BEGIN opens transactions, so that writers take the lock up
        # front (BEGIN IMMEDIATE) and never deadlock: sqlite3's are off (connect_args).
        if dbapi_conn.isolation_level is not None:
            dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A reader takes no lock: with WAL it reads a snapshot beside the writer.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _tune_fast_path(engine: AsyncEngine) -> None:
    sqlite_transaction.watch(engine)

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_conn: Any, record: Any, _state: Any) -> None:
        if record is not None:
            sqlite_transaction.forget(record.info)
        # A unit of work ends in COMMIT or ROLLBACK; a returned connection then has no
        # transaction, and the pool's usual ROLLBACK would be one more trip to SQLite's
        # thread per transaction. Roll back only what is really open.
        if dbapi_conn.driver_connection.in_transaction:
            dbapi_conn.rollback()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
