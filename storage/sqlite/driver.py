"""aiosqlite connections whose cursors cost one trip to the database thread per statement.

aiosqlite runs each call on its connection's thread and wakes the event loop with the
result. SQLAlchemy's adapter makes four such calls per statement (open a cursor,
execute, fetch the rows, close the cursor), and on a small machine each wake-up costs
tens of microseconds: more than the statement itself. Here ``execute`` runs the
statement, fetches its first rows and closes the cursor in one call; only a result
longer than ``PREFETCH`` rows keeps the cursor open and fetches the rest later (as a
streamed export does), so memory stays bounded.

Inside ``inline()``, a statement of a transaction already open runs on the calling
thread, with no trip at all. There it cannot wait for a lock: ``BEGIN IMMEDIATE``
(which may wait for another process) and ``COMMIT`` (which may checkpoint the WAL)
always go to the thread, and within a transaction WAL mode makes neither readers
nor the writer wait. What such a statement costs is SQLite's own work (tens of
microseconds for an indexed row), less than the trip it saves.

It uses aiosqlite's ``Connection._execute`` (queue a function on the thread) and
``_conn``, which is why pyproject.toml bounds aiosqlite's version.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import aiosqlite

PREFETCH = 1000  # rows fetched with the statement itself

_INLINE: ContextVar[bool] = ContextVar("postsale_sqlite_inline", default=False)


@contextmanager
def inline(enabled: bool = True) -> Iterator[None]:
    """Within this block, statements of an open transaction skip the thread trip.

    For work made of small indexed statements (an update's transaction). Wrap
    nothing here that may read or write many rows: it would hold up the event loop.
    """
    token = _INLINE.set(enabled)
    try:
        yield
    finally:
        _INLINE.reset(token)


def inline_enabled() -> bool:
    """Whether the caller is inside ``inline()``."""
    return _INLINE.get()


Description = tuple[tuple[Any, ...], ...] | None


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection handing out :class:`OneTripCursor` cursors."""

    # Whether SQLite had a transaction open after the last trip; lets the pool skip
    # its ROLLBACK-on-return (another trip) after a commit (see storage.db).
    in_transaction = False

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def on_thread(
        self, fn: Callable[[sqlite3.Connection], Any], *, inline: bool = True
    ) -> Any:
        """Run ``fn(sqlite3_connection)`` on the connection's thread.

        Inside ``inline()``, with a transaction already open, and unless ``inline`` is
        False, it runs on the calling thread instead (see the module's docstring).
        """
        conn = self._conn
        if inline and _INLINE.get() and conn is not None and conn.in_transaction:
            try:
                return fn(conn)
            finally:
                self.in_transaction = conn.in_transaction

        def run() -> Any:
            try:
                return fn(conn)
            finally:
                self.in_transaction = conn.in_transaction

        return await self._execute(run)  # type: ignore[no-untyped-call]

    # Never inline: a COMMIT may checkpoint the WAL (disk writes and an fsync).
    async def commit(self) -> None:
        await self.on_thread(lambda conn: conn.commit(), inline=False)

    async def rollback(self) -> None:
        await self.on_thread(lambda conn: conn.rollback(), inline=False)


class OneTripCursor:
    """The part of aiosqlite's cursor that SQLAlchemy's adapter uses."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._open: sqlite3.Cursor | None = None  # only while rows remain unfetched
        self._rows: deque[Any] = deque()
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> OneTripCursor:
        await self.close()

        def run(conn: sqlite3.Connection) -> tuple[Any, ...]:
            cursor = conn.cursor()
            try:
                cursor.execute(sql, () if parameters is None else parameters)
                rows = cursor.fetchmany(PREFETCH) if cursor.description else []
                more = cursor.description is not None and len(rows) == PREFETCH
            except BaseException:
                cursor.close()
                raise
            found = (cursor.description, rows, cursor.rowcount, cursor.lastrowid)
            if more:
                return (*found, cursor)
            cursor.close()
            return (*found, None)

        (
            self.description,
            rows,
            self.rowcount,
            self.lastrowid,
            self._open,
        ) = await self._connection.on_thread(run)
        self._rows = deque(rows)
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> OneTripCursor:
        await self.close()

        def run(conn: sqlite3.Connection) -> tuple[int, int | None]:
            cursor = conn.cursor()
            try:
                cursor.executemany(sql, rows)
                return cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        self.description, self._rows = None, deque()
        self.rowcount, self.lastrowid = await self._connection.on_thread(run)
        return self

    async def fetchone(self) -> Any:
        if not self._rows:
            await self._fetch_more(PREFETCH)
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size or self.arraysize
        if len(self._rows) < size:
            await self._fetch_more(max(size - len(self._rows), PREFETCH))
        return [self._rows.popleft() for _ in range(min(size, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        if self._open is not None:
            await self._fetch_more(None)
        rows, self._rows = list(self._rows), deque()
        return rows

    async def _fetch_more(self, size: int | None) -> None:
        """Fetch ``size`` more rows (all when None) from a cursor left open."""
        cursor = self._open
        if cursor is None:
            return

        def run(_: sqlite3.Connection) -> tuple[list[Any], bool]:
            rows = cursor.fetchall() if size is None else cursor.fetchmany(size)
            done = size is None or len(rows) < size
            if done:
                cursor.close()
            return rows, done

        rows, done = await self._connection.on_thread(run)
        self._rows.extend(rows)
        if done:
            self._open = None

    async def close(self) -> None:
        cursor, self._open = self._open, None
        if cursor is not None:
            await self._connection.on_thread(lambda _: cursor.close())


def connect(database: str | Path, *, iter_chunk_size: int = 64, **kwargs: Any) -> OneTripConnection:
    """What ``aiosqlite.connect`` does, with one-trip cursors (SQLAlchemy's
    ``async_creator_fn`` connect argument)."""
    location = str(database)
    # inline(): the loop's thread uses the connection too, never at the same time.
    kwargs["check_same_thread"] = False
    connection = OneTripConnection(lambda: sqlite3.connect(location, **kwargs), iter_chunk_size)
    # As SQLAlchemy does for aiosqlite's own connections: a forgotten connection
    # must not keep the interpreter from exiting.
    connection._thread.daemon = True
    return connection
