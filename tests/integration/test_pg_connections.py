"""PostgreSQL connections: a pooled one the server ended is replaced, with no ping per use.

``storage.create_engine`` checks at checkout, without a round trip, what asyncpg
already knows: whether the server closed the connection.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from bot.app import Database

pytestmark = pytest.mark.postgres


async def _backend_pid(db: Database) -> int:
    async with db.uow() as uow:
        pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await uow.commit()
    return int(pid)


async def test_a_connection_the_server_ended_is_replaced_at_checkout(postgres_url: str) -> None:
    db = await Database.open(postgres_url, migrate=False)
    try:
        first = await _backend_pid(db)
        # Another connection ends it, as an administrator or a restart would.
        other = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            assert await other.fetchval("SELECT pg_terminate_backend($1)", first) is True
            for _ in range(100):  # the server ends it a moment after the call returns
                if not await other.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", first
                ):
                    break
                await asyncio.sleep(0.05)
        finally:
            await other.close()
        await asyncio.sleep(0.05)  # the event loop reads the closed socket
        # The pool hands out a live connection: this unit of work does not fail.
        assert await _backend_pid(db) != first
    finally:
        await db.close()
