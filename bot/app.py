"""The database handle every part shares: its engine, sessions and units of work."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.startup import OPEN_ERRORS, database_error, describe_database
from storage import UnitOfWork, create_engine, session_factory, upgrade


def sqlite_fast_path() -> bool:
    """``SQLITE_FAST_PATH`` from the environment alone (a database opened without
    settings: tests, benchmarks), read as ``Settings`` reads it."""
    return TypeAdapter(bool).validate_python(os.environ.get("SQLITE_FAST_PATH", "1"))


@dataclass
class Database:
    """The engine and session factory, with the schema brought up to date.

    On SQLite (one writer at a time) this process's units of work take turns on an
    asyncio lock; on PostgreSQL they run side by side. ``fast_path`` (SQLite): see
    ``storage.create_engine``; None takes ``SQLITE_FAST_PATH`` from the environment.
    """

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    writer_lock: asyncio.Lock | None = field(default=None, repr=False)
    fast_path: bool = False  # SQLite's fast path is on (storage.create_engine)

    @classmethod
    async def open(
        cls, url: str, *, migrate: bool = True, fast_path: bool | None = None
    ) -> Database:
        if fast_path is None:
            fast_path = sqlite_fast_path()
        engine = create_engine(url, fast_path=fast_path)
        if migrate:
            try:
                await upgrade(engine)
            except BaseException:
                await engine.dispose()
                raise
        sqlite = engine.dialect.name == "sqlite"
        lock = asyncio.Lock() if sqlite else None
        return cls(engine, session_factory(engine), lock, fast_path and sqlite)

    def uow(self, *, small: bool = False) -> UnitOfWork:
        """A unit of work; ``small``: many small indexed statements (``UnitOfWork``)."""
        return UnitOfWork(self.sessions, self.writer_lock, small=small)

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
        return await Database.open(url, fast_path=settings.sqlite_fast_path)
    except OPEN_ERRORS as exc:
        raise database_error(url, exc) from exc
