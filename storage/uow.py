"""The unit of work: one transaction, committed whole or not at all."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import READ_ONLY
from storage.sqlite import driver as sqlite_driver
from storage.sqlite.transaction import SMALL


@contextmanager
def reads_many() -> Iterator[None]:
    """A part of a small unit of work that may read many rows (an operator's /kpi).

    On SQLite with the fast path its statements go to the database's thread instead
    of running inline, so a long query does not hold up the event loop; elsewhere
    this changes nothing.
    """
    with sqlite_driver.inline(False):
        yield


class UnitOfWork:
    """``async with UnitOfWork(factory) as uow:`` ... ``await uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back, so an exception
    half-way through an update leaves no trace (DESIGN.md invariant 1).

    ``writer_lock`` (SQLite): held from before ``BEGIN`` until the session is closed.
    SQLite has one writer; tasks of this process queue on the lock and are woken the
    moment it is free, instead of polling in SQLite's sleeping busy handler.
    ``read_only``: a reader (on SQLite a plain ``BEGIN``: with WAL it neither waits
    for the writer nor blocks it); writing in it is an error on SQLite.
    ``small``: the transaction is many small indexed statements (an update, a batch
    of send results). On SQLite with the fast path they run inline, without a trip
    to the database's thread, and the rows written with ``storage.sqlite.write_buffer``
    wait to go out together (``storage.sqlite.transaction``); elsewhere it changes
    nothing. Wrap a part that may read many rows in ``reads_many()``.
    """

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        writer_lock: asyncio.Lock | None = None,
        *,
        read_only: bool = False,
        small: bool = False,
    ) -> None:
        self._factory = factory
        self._lock = None if read_only else writer_lock
        self._read_only = read_only
        self._small = small and not read_only
        self._session: AsyncSession | None = None
        self._holding = False
        self._scope = ExitStack()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        if self._lock is not None:
            await self._lock.acquire()
            self._holding = True
        # Set whichever way: a unit of work opened inside a small one is not small.
        self._scope.enter_context(sqlite_driver.inline(self._small))
        try:
            self._session = self._factory(info={SMALL: self._small})
            await self._session.begin()
            if self._read_only:
                await self._session.connection(execution_options={READ_ONLY: True})
        except BaseException:
            await self._release()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            # After an error, roll back explicitly. Otherwise close() alone discards any
            # uncommitted work while leaving what was read usable outside the block
            # (a rollback would expire it).
            if exc_type is not None and session.in_transaction():
                await session.rollback()
        finally:
            await self._release()

    async def _release(self) -> None:
        try:
            if self._session is not None:
                await self._session.close()
        finally:
            self._session = None
            self._scope.close()
            if self._holding and self._lock is not None:
                self._holding = False
                self._lock.release()

    def reads_many(self) -> AbstractContextManager[None]:
        """See the module-level ``reads_many``."""
        return reads_many()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
