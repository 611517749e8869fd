"""Two and three ``postsale run`` processes on one PostgreSQL, the lease connection killed.

The outbox is sent by the one process holding the sender's advisory lock. The test kills
that lock's backend (``pg_terminate_backend``) three times while a campaign goes out:
another process takes the lock over each time, and the one that lost it must stop
sending before it could overlap. Every invitation arrives; a message goes out twice
only if it was in flight at the moment of a kill (the documented bound: one send batch
per kill, docs/reliability.md).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from bot.app import Database
from bot.delivery.limits import SendLimits
from tests.fakes.bot_api import TOKEN, FakeBotApi
from tests.reliability.harness import (
    BotProcess,
    bot_env,
    deliveries,
    lines_with,
    outbox_statuses,
    queue_invitations,
)

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.parametrize(
        "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
    ),
]

CUSTOMERS = 400
KILLS = 3


async def lease_holder(dsn: str) -> int | None:
    """The backend pid holding the sender's advisory lock, if any."""
    conn = await asyncpg.connect(dsn)
    try:
        pid = await conn.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return int(pid) if pid is not None else None
    finally:
        await conn.close()


async def terminate(dsn: str, pid: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


@pytest.mark.parametrize("processes", [2, 3])
async def test_killing_the_lease_connection_never_makes_two_senders(
    processes: int, db_url: str, db: Database, tmp_path: Path
) -> None:
    dsn = db_url.replace("postgresql+asyncpg", "postgresql")
    chats = await queue_invitations(db, CUSTOMERS)
    api = FakeBotApi()
    url = await api.start()
    bots = [
        BotProcess(bot_env(db_url, url, tmp_path, SEND_RATE_GLOBAL="40"), tmp_path / f"b{n}.log")
        for n in range(processes)
    ]
    killed: list[int] = []
    try:
        for bot in bots:
            await bot.start()
        for n in range(KILLS):
            await api.wait_until(lambda n=n: len(api.sent()) >= 40 * (n + 1), within=120)
            pid = None
            async with asyncio.timeout(60):
                while pid is None or pid in killed:
                    pid = await lease_holder(dsn)
                    await asyncio.sleep(0.1)
            await terminate(dsn, pid)
            killed.append(pid)
        async with asyncio.timeout(180):
            while (await outbox_statuses(db)).get("queued"):  # noqa: ASYNC110
                await asyncio.sleep(0.5)
        for bot in bots:
            await bot.stop()
    finally:
        for bot in bots:
            await bot.close()
        await api.close()

    per_chat = deliveries(api)
    duplicates = sum(n - 1 for n in per_chat.values())
    bound = KILLS * SendLimits().concurrency
    print(
        f"\n{processes} processes, {KILLS} lease kills: {len(api.sent())} sends for "
        f"{CUSTOMERS} invitations, {duplicates} duplicates (bound {bound})"
    )
    assert set(per_chat) == set(chats)
    assert duplicates <= bound, f"{duplicates} duplicates: two senders overlapped"
    assert max(per_chat.values()) <= 2
    for bot in bots:
        assert not lines_with(bot.log, TOKEN)
