"""Engine and session setup: SQLite (WAL, busy timeout) by default, PostgreSQL by URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite import driver as sqlite_driver
from storage.sqlite import transaction as sqlite_transaction

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Page cache per connection (SQLite's default is 2 MiB, and the pool keeps several).
# A WAL connection's cache is emptied whenever another connection has written since its
# last transaction, so between the pool's connections little of it is ever reused: with
# 100,000 customers three connections held 8 MB of SQLite memory at 2 MiB each
# (benchmarks.memory). 1 MiB (256 pages) still holds a group commit's pages, so that
# SQLite need not spill dirty ones to the WAL before the commit. The bulk import raises
# its own (storage.imports.upsert).
SQLITE_CACHE_KIB = 1024
READ_ONLY = "postsale_read_only"  # execution option: this transaction only reads
# A pooled connection's info key: a bulk write raised its page cache, and it goes back
# to SQLITE_CACHE_KIB at its next checkout (storage.imports.upsert.shrink_caches).
SHRINK_CACHE = "postsale_shrink_cache"


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
    # ``postsale run`` handles 32 chats at once on PostgreSQL (bot/entrypoints/runner.py),
    # beside the outbox sender and the scheduler; a transaction holds its connection for
    # milliseconds. Kept connections (past ``pool_size`` a returned one is closed and the
    # next costs a connect), but at most 32 per process: three processes stay under
    # PostgreSQL's default max_connections of 100 (docs/deploy.md).
    kwargs.setdefault("pool_size", PG_POOL_SIZE)
    kwargs.setdefault("max_overflow", PG_MAX_CONNECTIONS - PG_POOL_SIZE)
    engine = create_async_engine(url, **kwargs)
    if "pool_pre_ping" not in kwargs:
        _check_on_checkout(engine)
    _buffer_writes(engine)
    return engine


PG_POOL_SIZE = 24
PG_MAX_CONNECTIONS = 32  # per process


def _check_on_checkout(engine: AsyncEngine) -> None:
    """Replace a pooled connection the server closed, without a round trip.

    ``pool_pre_ping`` sends a statement on every checkout, one more round trip per
    transaction. asyncpg reads its socket on the event loop, so a connection the
    server ended (a restart, ``pg_terminate_backend``, an idle timeout) is already
    marked closed when it is checked out; a connection lost without a word (a cut
    network) fails its first statement, and SQLAlchemy then empties the pool.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_conn, "driver_connection", None)
        if driver is not None and driver.is_closed():
            raise exc.DisconnectionError("the server closed this connection")


def _buffer_writes(engine: AsyncEngine) -> None:
    """Small units of work buffer their writes (``storage.sqlite.transaction``)."""
    sqlite_transaction.watch(engine)

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(_dbapi_conn: Any, record: Any, _state: Any) -> None:
        if record is not None:
            sqlite_transaction.forget(record.info)


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
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cur.close()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop(SHRINK_CACHE, False):
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # frees the pages above it
            cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A reader takes no lock: with WAL it reads a snapshot beside the writer.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _tune_fast_path(engine: AsyncEngine) -> None:
    _buffer_writes(engine)

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_conn: Any, _record: Any, _state: Any) -> None:
        # A unit of work ends in COMMIT or ROLLBACK; a returned connection then has no
        # transaction, and the pool's usual ROLLBACK would be one more trip to SQLite's
        # thread per transaction. Roll back only what is really open.
        if dbapi_conn.driver_connection.in_transaction:
            dbapi_conn.rollback()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
