"""Per-chat ordering: one holder per chat, waiters served in arrival order."""

from __future__ import annotations

import asyncio

from bot.engine.chat_locks import KeyedLocks


async def test_updates_of_one_chat_run_one_at_a_time_in_arrival_order() -> None:
    locks = KeyedLocks()
    release_first = asyncio.Event()
    log: list[str] = []

    async def update(name: str, chat: str, gate: asyncio.Event | None = None) -> None:
        async with locks.hold(chat):
            log.append(f"start {name}")
            if gate is not None:
                await gate.wait()
            log.append(f"end {name}")

    tasks = [
        asyncio.create_task(update("a1", "A", release_first)),
        asyncio.create_task(update("a2", "A")),
        asyncio.create_task(update("a3", "A")),
        asyncio.create_task(update("b1", "B")),
    ]
    await asyncio.sleep(0)  # let every task reach its lock
    await asyncio.sleep(0)
    # chat B is not held up by chat A; A's later updates wait for the first
    assert log == ["start a1", "start b1", "end b1"]
    release_first.set()
    await asyncio.gather(*tasks)
    assert log[3:] == ["end a1", "start a2", "end a2", "start a3", "end a3"]
    assert len(locks) == 0


async def test_a_failing_update_releases_its_chat() -> None:
    locks = KeyedLocks()

    async def boom() -> None:
        async with locks.hold("A"):
            raise RuntimeError("handler failed")

    results = await asyncio.gather(boom(), boom(), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert len(locks) == 0
    async with locks.hold("A"):
        assert len(locks) == 1
