"""Helpers of the PostgreSQL engine tests: lock waiters, transcripts by chat."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from sqlalchemy import select, text

from bot.app import Database
from storage.models import Message


async def lock_waiters(db: Database) -> int:
    async with db.engine.connect() as conn:
        query = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int((await conn.execute(query)).scalar_one())


async def until_waiting(db: Database, waiting: int) -> None:
    """Until ``waiting`` backends wait for a lock (the updates queued on the rows)."""
    async with asyncio.timeout(20):
        while True:  # polled: PostgreSQL tells nobody when a backend starts to wait
            if await lock_waiters(db) >= waiting:
                return
            await asyncio.sleep(0.02)


async def transcripts(db: Database) -> dict[str, list[str]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(Message.chat_id, Message.text)
            .where(Message.direction == "in")
            .order_by(Message.id)
        )
        lines: dict[str, list[str]] = defaultdict(list)
        for chat_id, line in rows:
            lines[chat_id].append(line)
        return lines
