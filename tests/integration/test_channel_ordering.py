"""Per-chat order, concurrency across chats, and a stop that loses and repeats nothing."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from bot.app import Database
from bot.channels.chat_queue import ChatQueue
from bot.channels.port import Incoming
from storage.models import HandledUpdate, Message
from tests.builders import Clock
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings

CHATS = 8
PER_CHAT = 5


async def test_the_chat_queue_keeps_each_keys_order_and_runs_keys_concurrently() -> None:
    queue = ChatQueue(limit=4)
    rng = random.Random(7)
    seen: dict[int, list[int]] = defaultdict(list)
    running = peak = 0

    def job(key: int, n: int, pause: int) -> object:
        async def run() -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            for _ in range(pause):  # yield to the loop a few times: other keys interleave
                await asyncio.sleep(0)
            seen[key].append(n)
            running -= 1

        return run

    futures = [
        queue.submit(key, job(key, n, rng.randint(0, 5)))  # type: ignore[arg-type]
        for n in range(20)
        for key in range(10)
    ]
    await asyncio.gather(*futures)
    assert all(order == list(range(20)) for order in seen.values())
    assert 1 < peak <= 4
    assert len(queue) == 0  # idle keys hold no memory


async def test_a_failed_job_fails_its_future_and_the_key_carries_on() -> None:
    queue = ChatQueue()

    async def boom() -> None:
        raise RuntimeError("no")

    async def fine() -> None:
        return None

    first, second = queue.submit("k", boom), queue.submit("k", fine)
    with pytest.raises(RuntimeError):
        await first
    await second


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_stopping_finishes_the_updates_in_hand_and_confirms_exactly_them(
    framework: str, sqlite_db: Database
) -> None:
    api = FakeBotApi()
    url = await api.start()
    gate = asyncio.Event()
    in_handler = 0
    peak = 0
    stack = BotStack(api, telegram_settings(url, framework), sqlite_db, Clock(), concurrency=64)
    handle = stack.engine.handle
    one_writer = asyncio.Lock()  # FIFO: SQLite takes one writer; no busy-waiting

    async def slow_handle(incoming: Incoming) -> None:
        nonlocal in_handler, peak
        in_handler += 1
        peak = max(peak, in_handler)
        await gate.wait()  # held until the stop has begun
        async with one_writer:
            await handle(incoming)
        in_handler -= 1

    stack.channel.handler = slow_handle
    try:
        await stack.start()
        updates = [
            tg.message(1000 + chat, f"chat {chat} message {n}")
            for n in range(PER_CHAT)
            for chat in range(CHATS)
        ]
        ids = await api.inject(*updates)
        await api.wait_until(lambda: all(stack.channel.pump.taken(i) for i in ids))
        stopping = asyncio.create_task(stack.stop())
        await stack.channel._stop.wait()  # the stop's first step
        assert api.confirmed() < ids[0] + 1  # nothing confirmed while in hand
        gate.set()
        await stopping
    finally:
        gate.set()
        await api.close()

    assert peak == CHATS  # one update per chat at a time, all chats at once
    assert api.confirmed() == ids[-1] + 1  # everything handled, and only that, confirmed
    async with sqlite_db.uow() as uow:
        done = await uow.session.scalar(select(func.count()).select_from(HandledUpdate))
        lines = (
            await uow.session.execute(
                select(Message.chat_id, Message.text)
                .where(Message.direction == "in")
                .order_by(Message.id)
            )
        ).all()
    assert done == len(ids)
    per_chat: dict[str, list[str]] = defaultdict(list)
    for chat_id, text in lines:
        per_chat[chat_id].append(text)
    for chat in range(CHATS):
        expected = [f"chat {chat} message {n}" for n in range(PER_CHAT)]
        assert per_chat[str(1000 + chat)] == expected  # in order, each once
