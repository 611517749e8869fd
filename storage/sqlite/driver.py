"""Our SQLite driver: stdlib ``sqlite3`` on one thread, one trip per statement.

SQLAlchemy's ``sqlite+aiosqlite`` dialect drives it (``async_creator_fn``) as it
drives an aiosqlite connection: the same awaitable connection and cursors. What it
adds: ``execute`` runs the statement, fetches its first rows and closes the cursor
in one trip to the thread (SQLAlchemy's adapter makes four calls per statement, and
each wake-up of the event loop costs more than an indexed statement); only a result
longer than ``PREFETCH`` rows keeps its cursor open, so memory stays bounded.

Inside ``inline()``, a statement of a transaction already open runs on the calling
thread, with no trip at all. There it cannot wait for a lock: ``BEGIN IMMEDIATE``
(which may wait for another process) and ``COMMIT`` (which may checkpoint the WAL)
always go to the thread, and within a transaction WAL mode makes neither readers
nor the writer wait. The unit of work decides when (``storage.uow``).
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Any

PREFETCH = 1000  # rows fetched with the statement itself

_INLINE: ContextVar[bool] = ContextVar("postsale_sqlite_inline", default=False)

Job = tuple[asyncio.Future[Any], Callable[[], Any]] | None
Description = tuple[tuple[Any, ...], ...] | None


@contextmanager
def inline(enabled: bool = True) -> Iterator[None]:
    """Within this block, statements of an open transaction skip the thread trip."""
    token = _INLINE.set(enabled)
    try:
        yield
    finally:
        _INLINE.reset(token)


def inline_enabled() -> bool:
    """Whether the caller is inside ``inline()``."""
    return _INLINE.get()


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _work(jobs: queue.SimpleQueue[Job]) -> None:
    """The connection's thread: run each job, hand its result to the job's loop."""
    while (job := jobs.get()) is not None:
        future, fn = job
        try:
            result, error = fn(), None
        except BaseException as exc:  # handed to the awaiting task, raised there
            result, error = None, exc
        with suppress(RuntimeError):  # the loop is closed: nobody waits any more
            future.get_loop().call_soon_threadsafe(_settle, future, result, error)


class Connection:
    """An awaitable connection (``await connect(...)`` opens it) with one-trip cursors."""

    def __init__(self, open_sqlite: Callable[[], sqlite3.Connection]) -> None:
        self._open = open_sqlite
        # The name SQLAlchemy's aiosqlite adapter tests before a commit or rollback.
        self._connection: sqlite3.Connection | None = None
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        # Daemon: a connection never closed must not keep the interpreter from exiting.
        self._thread = threading.Thread(target=_work, args=(self._jobs,), daemon=True)
        # Whether SQLite had a transaction open after the last statement; lets the
        # pool skip its ROLLBACK-on-return (another trip) after a commit (storage.db).
        self.in_transaction = False

    def __await__(self) -> Generator[Any, None, Connection]:
        return self._start().__await__()

    async def _start(self) -> Connection:
        self._thread.start()
        self._connection = await self._call(self._open)
        return self

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The ``sqlite3`` connection, for statements run inline (``storage.sqlite.prepared``)."""
        if self._connection is None:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self.sqlite.isolation_level

    async def _call(self, fn: Callable[[], Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._jobs.put((future, fn))
        return await future

    async def on_thread(
        self, fn: Callable[[sqlite3.Connection], Any], *, inline: bool = True
    ) -> Any:
        """Run ``fn(sqlite3_connection)`` on the connection's thread.

        Inside ``inline()``, with a transaction already open, and unless ``inline`` is
        False, it runs on the calling thread instead (see the module's docstring).
        """
        conn = self.sqlite
        if inline and _INLINE.get() and conn.in_transaction:
            try:
                return fn(conn)
            finally:
                self.in_transaction = conn.in_transaction

        def run() -> Any:
            try:
                return fn(conn)
            finally:
                self.in_transaction = conn.in_transaction

        return await self._call(run)

    def cursor(self) -> Cursor:
        return Cursor(self)

    # Never inline: a COMMIT may checkpoint the WAL (disk writes and an fsync).
    async def commit(self) -> None:
        await self.on_thread(lambda conn: conn.commit(), inline=False)

    async def rollback(self) -> None:
        await self.on_thread(lambda conn: conn.rollback(), inline=False)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        await self.on_thread(lambda conn: conn.create_function(*args, **kwargs), inline=False)

    async def close(self) -> None:
        if self._connection is None:
            return
        conn = self._connection
        try:
            await self._call(conn.close)
        finally:
            self.in_transaction = False
            self.stop()

    def stop(self) -> None:
        """Stop the thread without waiting (SQLAlchemy's terminate, e.g. at garbage collection)."""
        self._connection = None
        self._jobs.put(None)


class Cursor:
    """The cursor SQLAlchemy's adapter uses: each call one trip, or none (``inline()``)."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._open: sqlite3.Cursor | None = None  # only while rows remain unfetched
        self._rows: deque[Any] = deque()
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        await self.close()

        def run(conn: sqlite3.Connection) -> tuple[Any, ...]:
            cursor = conn.cursor()
            try:
                cursor.execute(sql, () if parameters is None else parameters)
                rows = cursor.fetchmany(PREFETCH) if cursor.description else []
            except BaseException:
                cursor.close()
                raise
            more = cursor.description is not None and len(rows) == PREFETCH
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

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
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


def connect(database: str | Path, **kwargs: Any) -> Connection:
    """What ``aiosqlite.connect`` is to SQLAlchemy (its ``async_creator_fn``), for ours."""
    location = str(database)
    kwargs.pop("iter_chunk_size", None)  # aiosqlite's, nothing here
    # inline(): the loop's thread uses the connection too, never at the same time.
    kwargs["check_same_thread"] = False
    # Transactions are SQLAlchemy's BEGIN (storage.db), never sqlite3's implicit ones.
    kwargs["isolation_level"] = None
    return Connection(lambda: sqlite3.connect(location, **kwargs))
