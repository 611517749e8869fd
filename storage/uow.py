"""The unit of work: one transaction, committed whole or not at all."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class UnitOfWork:
    """``async with UnitOfWork(factory) as uow:`` ... ``await uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back, so an exception
    half-way through an update leaves no trace (DESIGN.md invariant 1).
    """

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._factory()
        await self._session.begin()
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
            await session.close()
            self._session = None

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
