"""Long polling against an in-memory getUpdates: every update once, confirmed only when handled."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from bot.channels.chat_queue import ChatQueue
from bot.channels.telegram.polling import UpdatePump


class UpdateStore:
    """getUpdates' contract: ids below the offset are confirmed and never returned again."""

    def __init__(self, count: int, *, raw: bool = False) -> None:
        # ``raw``: JSON objects, as the adapters fetch them for the pump to parse.
        self.updates: list[Any] = [
            {"update_id": n} if raw else SimpleNamespace(update_id=n) for n in range(1, count + 1)
        ]
        self.confirmed = 0  # every id up to this one
        self.returned = 0

    async def fetch(self, offset: int | None, wait: float, limit: int) -> Sequence[Any]:
        if offset is not None:
            self.confirmed = max(self.confirmed, offset - 1)
        await asyncio.sleep(0.001)  # the round trip
        found = [u for u in self.updates if _id(u) > self.confirmed][:limit]
        if not found:
            await asyncio.sleep(min(wait, 0.01))  # a long poll with nothing to return
        self.returned += len(found)
        return found


def _id(update: Any) -> int:
    return int(update["update_id"] if isinstance(update, dict) else update.update_id)


async def drain(
    count: int,
    concurrency: int,
    ahead: int | None,
    parse: Callable[[Any], Any] | None = None,
) -> tuple[UpdatePump, UpdateStore]:
    store = UpdateStore(count, raw=parse is not None)
    queue = ChatQueue(concurrency)
    handled: Counter[int] = Counter()
    rng = random.Random(count)
    all_handled = asyncio.Event()

    async def handle(update: Any) -> None:
        await asyncio.sleep(rng.uniform(0, 0.002))
        handled[update.update_id] += 1
        if len(handled) == count:
            all_handled.set()

    def dispatch(update: Any) -> asyncio.Future[None]:
        return queue.submit(update.update_id % 50, lambda: handle(update))  # 50 chats

    pump = UpdatePump(store.fetch, dispatch, timeout=0.01, ahead=ahead, parse=parse)
    stop = asyncio.Event()
    poller = asyncio.create_task(pump.run(stop))
    await asyncio.wait_for(all_handled.wait(), 30)
    stop.set()
    await poller
    await queue.join()
    await pump.confirm()
    assert handled == Counter(range(1, count + 1))  # each exactly once
    assert store.confirmed == count
    return pump, store


async def test_every_update_is_handled_once_and_confirmed_only_after_it_was_handled() -> None:
    pump, store = await drain(600, concurrency=16, ahead=16)
    assert pump.fetched == 600
    assert store.returned == pump.fetched + pump.skipped


async def test_fetching_again_only_when_few_are_in_hand_parses_fewer_repeats() -> None:
    # A fetch returns the updates still in hand again (the offset cannot pass them).
    near_empty, _ = await drain(600, concurrency=16, ahead=16)
    half_full, _ = await drain(600, concurrency=16, ahead=None)  # half the window: 50
    assert near_empty.skipped < half_full.skipped
    assert near_empty.skipped < 600 // 2


async def test_only_updates_not_taken_in_yet_are_parsed() -> None:
    parsed: Counter[int] = Counter()

    def parse(data: dict[str, Any]) -> SimpleNamespace:
        parsed[data["update_id"]] += 1
        return SimpleNamespace(**data)

    pump, store = await drain(600, concurrency=16, ahead=16, parse=parse)
    assert pump.skipped > 0  # repeats came back from the store ...
    assert parsed == Counter(range(1, 601))  # ... and none of them was parsed again
    assert pump.parsed == 600 and store.returned == 600 + pump.skipped


async def run_until(pump: UpdatePump, queue: ChatQueue, done: Callable[[], bool]) -> None:
    """Poll until ``done()`` (at most 3 s), then stop, finish and confirm as a channel does."""
    stop = asyncio.Event()
    poller = asyncio.create_task(pump.run(stop))
    for _ in range(300):
        if done():
            break
        await asyncio.sleep(0.01)
    stop.set()
    await poller
    await queue.join()
    await pump.confirm()


async def test_an_update_that_cannot_be_read_is_skipped_not_retried_forever() -> None:
    def parse(data: dict[str, Any]) -> SimpleNamespace:
        if data["update_id"] % 100 == 0:
            raise ValueError("not an update")
        return SimpleNamespace(**data)

    store = UpdateStore(300, raw=True)
    handled: list[int] = []
    queue = ChatQueue(4)

    async def handle(update: Any) -> None:
        handled.append(update.update_id)

    def dispatch(update: Any) -> asyncio.Future[None]:
        return queue.submit(update.update_id % 7, lambda: handle(update))

    pump = UpdatePump(store.fetch, dispatch, timeout=0.01, ahead=4, parse=parse)
    await run_until(pump, queue, lambda: len(handled) == 297)
    assert sorted(handled) == [n for n in range(1, 301) if n % 100]
    assert store.confirmed == 300  # the unreadable ones did not hold the offset back


async def test_an_update_given_up_unhandled_holds_the_offset_and_is_taken_again() -> None:
    store = UpdateStore(5)
    queue = ChatQueue(4)
    tries: Counter[int] = Counter()

    async def handle(update: Any) -> None:
        tries[update.update_id] += 1
        if update.update_id == 3 and tries[3] == 1:
            raise ConnectionError("the database went away")  # given up by the channel

    def dispatch(update: Any) -> asyncio.Future[None]:
        return queue.submit(update.update_id, lambda: handle(update))

    pump = UpdatePump(store.fetch, dispatch, timeout=0.01, ahead=4)
    await run_until(pump, queue, lambda: tries[3] == 2 and len(tries) == 5 and pump.offset == 6)
    assert tries == Counter({1: 1, 2: 1, 3: 2, 4: 1, 5: 1})  # 3 again, the others once
    assert store.confirmed == 5
