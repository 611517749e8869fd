"""Fixtures of the integration tests: both Telegram libraries, the fake Bot API server,
and a second process's pool on the test database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.app import Database
from tests.fakes.bot_api import FakeBotApi


@pytest.fixture(params=["aiogram", "ptb"])
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi()
    server.url = await server.start()  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        await server.close()


@asynccontextmanager
async def pool_of(url: str) -> AsyncIterator[Database]:
    """A connection pool of its own on an already migrated database."""
    database = await Database.open(url, migrate=False)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def other(db_url: str) -> AsyncIterator[Database]:
    """A second connection pool on the same database: another bot process."""
    async with pool_of(db_url) as database:
        yield database
