"""Two senders on one PostgreSQL database: when the lease's connection dies, the first
stops sending before the second starts, and no message goes twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select, text

from bot.app import Database
from bot.delivery.lease import ADVISORY_KEY, SenderLease, run_with_lease
from bot.delivery.limits import SendLimits
from bot.delivery.sender import Fence, OutboxSender
from storage.models import OutboxMessage
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody
from tests.integration.outbox_fakes import HttpChannel, ScriptedBotApi

NOW = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)
# Slow enough that the first sender is busy when its lease connection is killed.
PACED = SendLimits(global_rate=50, per_chat_rate=100, poll_interval=0.05)
MESSAGES = 150


@pytest.fixture
async def api_url() -> AsyncIterator[tuple[ScriptedBotApi, str]]:
    api = ScriptedBotApi()
    server = TestServer(api.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield api, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def kill_lease_backend(db: Database) -> None:
    """What a server restart or an idle timeout does to the lease holder's session."""
    async with db.engine.connect() as conn:
        pid = await conn.scalar(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND objid::bigint = :low"
            ),
            {"low": ADVISORY_KEY & 0xFFFF_FFFF},
        )
        assert pid is not None
        assert await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await conn.commit()


async def test_a_sender_whose_lease_connection_dies_stops_before_another_starts(
    db: Database, db_url: str, api_url: tuple[ScriptedBotApi, str]
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock and its connection are PostgreSQL's")
    api, url = api_url
    async with db.uow() as uow:
        for n in range(MESSAGES):
            body = OutboxBody(text=f"m{n}")
            chat = str(100 + n % 30)
            await enqueue(
                uow.session, channel="telegram", chat_id=chat, body=body, purpose="reply", now=NOW
            )
        await uow.commit()
    other = await Database.open(db_url, migrate=False)
    channels = [HttpChannel(url, "1:FIRST"), HttpChannel(url, "2:SECOND")]
    senders = [
        OutboxSender(database, {"telegram": ch}, PACED, clock=lambda: NOW)
        for database, ch in zip((db, other), channels, strict=True)
    ]
    stops = [asyncio.Event(), asyncio.Event()]

    async def first(fence: Fence) -> None:
        await senders[0].run(stops[0], fence=fence)

    async def second(fence: Fence) -> None:
        await senders[1].run(stops[1], fence=fence, until_idle=True)

    leases = [SenderLease(db.engine, grace=1.0), SenderLease(other.engine, grace=1.0)]
    tasks = [asyncio.create_task(run_with_lease(leases[0], stops[0], first, 0.05))]
    try:
        await asyncio.wait_for(_until(lambda: len(api.delivered) >= 30), 20)
        tasks.append(asyncio.create_task(run_with_lease(leases[1], stops[1], second, 0.05)))
        await asyncio.sleep(0.2)  # standing by: the first still holds the lease
        assert {d.token for d in api.delivered} == {"1:FIRST"}

        await kill_lease_backend(db)
        await asyncio.wait_for(tasks[1], 30)
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for ch in channels:
            await ch.close()
        await other.close()

    by_first = [d.at for d in api.delivered if d.token == "1:FIRST"]
    by_second = [d.at for d in api.delivered if d.token == "2:SECOND"]
    assert by_first and by_second
    assert max(by_first) < min(by_second)
    assert Counter((d.chat_id, d.text) for d in api.delivered).most_common(1)[0][1] == 1
    assert len(api.delivered) == MESSAGES
    async with db.reader() as uow:
        left = await uow.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.status != "sent")
        )
        assert list(left) == []


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():  # noqa: ASYNC110 - the scripted endpoint sets no event
        await asyncio.sleep(0.02)
