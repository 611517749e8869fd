"""The composition root: everything the bot needs, built from settings."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.startup import OPEN_ERRORS, database_error, describe_database
from storage import UnitOfWork, create_engine, session_factory, upgrade


@dataclass
class Database:
    """The engine and session factory, with the schema brought up to date.

    On SQLite (one writer at a time) this process's units of work take turns on an
    asyncio lock; on PostgreSQL they run side by side.
    """

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    writer_lock: asyncio.Lock | None = field(default=None, repr=False)

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Database:
        engine = create_engine(url)
        if migrate:
            try:
                await upgrade(engine)
            except BaseException:
                await engine.dispose()
                raise
        lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        return cls(engine, session_factory(engine), lock)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.writer_lock)

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads: it does not queue behind the writers."""
        return UnitOfWork(self.sessions, self.writer_lock, read_only=True)

    async def close(self) -> None:
        await self.engine.dispose()


async def open_database(settings: Settings) -> Database:
    """A command's database: named on stderr; a failure to open it is a ``StartupError``."""
    url = settings.database_url
    print(f"postsale: database {describe_database(url)}", file=sys.stderr)
    try:
        return await Database.open(url)
    except OPEN_ERRORS as exc:
        raise database_error(url, exc) from exc
