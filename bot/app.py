"""The composition root: everything the bot needs, built from settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from storage import UnitOfWork, create_engine, session_factory, upgrade


@dataclass
class Database:
    """The engine and session factory, with the schema brought up to date."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Database:
        engine = create_engine(url)
        if migrate:
            await upgrade(engine)
        return cls(engine, session_factory(engine))

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    async def close(self) -> None:
        await self.engine.dispose()


async def open_database(settings: Settings) -> Database:
    return await Database.open(settings.database_url)
