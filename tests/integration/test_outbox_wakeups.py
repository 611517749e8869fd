"""Wake-ups between processes on PostgreSQL (LISTEN/NOTIFY): a message another process
queued is sent at once, not at the sender's next poll of the outbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from bot.app import Database
from bot.delivery.limits import SendLimits
from bot.delivery.sender import OutboxSender
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody
from storage.outbox_wakeups import OutboxWakeups
from tests.integration.outbox_fakes import HttpChannel, ScriptedBotApi, serving

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("db_url", [pytest.param("postgres")], indirect=True),
]

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
# The senders poll the outbox this seldom here: what arrives sooner was woken.
POLL = 30.0


class Heard:
    def __init__(self) -> None:
        self.times: list[float] = []
        self.event = asyncio.Event()

    def __call__(self) -> None:
        self.times.append(time.monotonic())
        self.event.set()


@pytest.fixture
async def pair(db: Database) -> AsyncIterator[tuple[OutboxWakeups, Heard, OutboxWakeups, Heard]]:
    heard_a, heard_b = Heard(), Heard()
    a = OutboxWakeups(db.engine, heard_a, retry_every=0.2)
    b = OutboxWakeups(db.engine, heard_b, retry_every=0.2)
    await a.start()
    await b.start()
    try:
        await a.wait_listening()
        await b.wait_listening()
        yield a, heard_a, b, heard_b
    finally:
        await a.close()
        await b.close()


async def test_a_wake_up_reaches_the_other_process_and_not_its_own(pair: tuple) -> None:
    a, heard_a, b, heard_b = pair
    a.notify()
    await asyncio.wait_for(heard_b.event.wait(), 5)
    await asyncio.sleep(0.2)  # its own would have come back by now
    assert heard_a.times == []
    assert (a.sent, b.received, a.received) == (1, 1, 0)


async def test_a_burst_of_wake_ups_sends_a_few_notifies_not_one_each(pair: tuple) -> None:
    a, _, b, heard_b = pair
    for _ in range(500):
        a.notify()
        if _ % 50 == 0:
            await asyncio.sleep(0)  # the engine's commits interleave with the NOTIFYs
    await asyncio.wait_for(heard_b.event.wait(), 5)
    await asyncio.sleep(0.3)
    assert 1 <= a.sent <= 25, a.sent
    assert b.received == a.sent  # each one heard


async def test_the_listener_comes_back_after_the_server_ended_its_connection(
    pair: tuple, postgres_url: str
) -> None:
    a, _, b, heard_b = pair
    old_pid = b._conn.get_server_pid()
    admin = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", old_pid) is True
    finally:
        await admin.close()
    for _ in range(200):  # the keeper sees it closed, and connects again
        conn = b._conn
        if conn is not None and not conn.is_closed() and conn.get_server_pid() != old_pid:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the listener did not connect again within 10 s")
    a.notify()
    await asyncio.wait_for(heard_b.event.wait(), 5)


@pytest.fixture
async def channel() -> AsyncIterator[tuple[ScriptedBotApi, HttpChannel]]:
    api = ScriptedBotApi()
    async with serving(api) as http:
        yield api, http


async def _queue_elsewhere(db: Database, sender: OutboxSender, chat_id: str) -> None:
    """What another process's engine does: queue a reply, commit, wake its sender."""
    async with db.uow() as uow:
        body = OutboxBody(text=f"reply to {chat_id}")
        await enqueue(
            uow.session, channel="telegram", chat_id=chat_id, body=body, purpose="reply", now=NOW
        )
        await uow.commit()
    sender.wake()


@pytest.mark.parametrize("wired", [True, False], ids=["woken", "polled"])
async def test_a_reply_queued_by_a_process_that_does_not_send_goes_out_at_once(
    db: Database, postgres_url: str, channel: tuple, wired: bool
) -> None:
    api, http = channel
    limits = SendLimits(global_rate=1000, per_chat_rate=1000, poll_interval=POLL)
    sending = OutboxSender(db, {"telegram": http}, limits, clock=lambda: NOW)
    other_db = await Database.open(postgres_url, migrate=False)  # the other process
    idle = OutboxSender(other_db, {"telegram": http}, limits, clock=lambda: NOW)
    here = OutboxWakeups(db.engine, sending.woken)
    there = OutboxWakeups(other_db.engine, idle.woken)
    if wired:
        idle.tell_others = there.notify
    stop = asyncio.Event()
    await here.start()
    await there.start()
    run = asyncio.create_task(sending.run(stop))
    try:
        await here.wait_listening()
        await there.wait_listening()
        await asyncio.sleep(0.3)  # the sender's first read found nothing: it waits now
        queued = time.monotonic()
        await _queue_elsewhere(other_db, idle, "7001")
        for _ in range(300):
            if api.delivered:
                break
            await asyncio.sleep(0.01)
        else:
            raise TimeoutError
        took = time.monotonic() - queued
        assert wired, "sent without a wake-up: the test no longer shows one is needed"
        assert took < 1.0, took
        assert [d.chat_id for d in api.delivered] == ["7001"]
    except TimeoutError:
        assert not wired, "a wake-up from the other process did not reach the sender"
    finally:
        stop.set()
        await run
        await here.close()
        await there.close()
        await other_db.close()
