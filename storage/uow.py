"""The unit of work: one transaction, committed whole or not at all."""

from __future__ import annotations

import asyncio
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import READ_ONLY
from storage.sqlite.write_buffer import drop_writes, flush_writes


class UnitOfWork:
    """``async with UnitOfWork(factory) as uow:`` ... ``await uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back, so an exception
    half-way through an update leaves no trace (DESIGN.md invariant 1).

    ``writer_lock`` (SQLite): held from before ``BEGIN`` until the session is closed.
    SQLite has one writer; tasks of this process queue on the lock and are woken the
    moment it is free, instead of polling in SQLite's sleeping busy handler.
    ``read_only``: a reader (on SQLite a plain ``BEGIN``: with WAL it neither waits
    for the writer nor blocks it); writing in it is an error on SQLite.
    """

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        writer_lock: asyncio.Lock | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self._factory = factory
        self._lock = None if read_only else writer_lock
        self._read_only = read_only
        self._session: AsyncSession | None = None
        self._holding = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        if self._lock is not None:
            await self._lock.acquire()
            self._holding = True
        try:
            self._session = self._factory()
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
            drop_writes(session)
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
            if self._holding and self._lock is not None:
                self._holding = False
                self._lock.release()

    async def commit(self) -> None:
        await flush_writes(self.session)
        await self.session.commit()

    async def rollback(self) -> None:
        drop_writes(self.session)
        await self.session.rollback()
