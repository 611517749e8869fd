"""The group-commit batcher on its own: batches, limits, failures, cancelled callers."""

from __future__ import annotations

import asyncio

import pytest

from bot.engine.group_commit import GroupCommit, Take


class Recorder:
    """A stand-in transaction: records batches; ``gate`` holds the first one open."""

    def __init__(self, fail_on: set[int] | None = None, fail_before_take: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.alone: list[int] = []
        self.gate = asyncio.Event()
        self.fail_on = fail_on or set()
        self.fail_before_take = fail_before_take

    async def run_batch(self, take: Take[int]) -> None:
        await self.gate.wait()  # as a transaction waits for SQLite's writer
        if self.fail_before_take:
            raise RuntimeError("database is gone")
        items = take()
        if self.fail_on & set(items):
            raise ValueError(f"bad item in {items}")
        self.batches.append(items)

    async def run_alone(self, item: int) -> None:
        if item in self.fail_on:
            raise ValueError(f"bad item {item}")
        self.alone.append(item)


async def test_items_that_wait_together_share_one_batch_up_to_the_limit() -> None:
    rec = Recorder()
    group = GroupCommit(4, rec.run_batch, rec.run_alone)
    calls = [asyncio.create_task(group.submit(n)) for n in range(10)]
    await asyncio.sleep(0)
    rec.gate.set()
    await asyncio.gather(*calls)
    assert rec.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert (group.batches, group.largest) == (3, 4)


async def test_a_failing_item_fails_alone_and_the_rest_of_its_batch_commits() -> None:
    rec = Recorder(fail_on={2})
    group = GroupCommit(8, rec.run_batch, rec.run_alone)
    calls = [asyncio.create_task(group.submit(n)) for n in range(5)]
    await asyncio.sleep(0)
    rec.gate.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["NoneType"] * 2 + ["ValueError"] + [
        "NoneType"
    ] * 2
    assert rec.batches == []  # the batch was rolled back
    assert rec.alone == [0, 1, 3, 4]  # and each item ran again in its own transaction


async def test_a_caller_cancelled_before_its_batch_is_left_out() -> None:
    rec = Recorder()
    group = GroupCommit(8, rec.run_batch, rec.run_alone)
    calls = [asyncio.create_task(group.submit(n)) for n in range(3)]
    await asyncio.sleep(0)
    calls[1].cancel()
    rec.gate.set()
    await asyncio.gather(calls[0], calls[2])
    assert rec.batches == [[0, 2]]


async def test_when_the_transaction_cannot_open_the_waiting_items_fail_with_its_error() -> None:
    rec = Recorder(fail_before_take=True)
    group = GroupCommit(2, rec.run_batch, rec.run_alone)
    calls = [asyncio.create_task(group.submit(n)) for n in range(3)]
    await asyncio.sleep(0)
    rec.gate.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert rec.alone == []  # nothing was handled behind the callers' backs
    with pytest.raises(RuntimeError):  # and it does not stick: the next item tries again
        await group.submit(9)


class Holding:
    """A stand-in PostgreSQL transaction: takes its items at once, then holds them open."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.open = 0
        self.most_open = 0
        self.release = asyncio.Event()

    async def run_batch(self, take: Take[int]) -> None:
        items = take()
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        await self.release.wait()
        self.open -= 1
        self.batches.append(items)

    async def run_alone(self, item: int) -> None:
        self.batches.append([item])


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("workers", "batches", "most_open"),
    [(1, [[0], [1, 2, 3, 4]], 1), (2, [[0], [1, 2], [3, 4]], 2)],
)
async def test_several_workers_run_batches_side_by_side_each_taking_what_queued(
    workers: int, batches: list[list[int]], most_open: int
) -> None:
    rec = Holding()
    group = GroupCommit(8, rec.run_batch, rec.run_alone, workers=workers)
    calls = [asyncio.create_task(group.submit(0))]
    await settle()  # the first batch took item 0 and holds it
    calls += [asyncio.create_task(group.submit(n)) for n in (1, 2)]
    await settle()  # a second worker, if any, takes both: they queued together
    calls += [asyncio.create_task(group.submit(n)) for n in (3, 4)]
    await settle()  # every worker busy: these wait for the next free one
    rec.release.set()
    await asyncio.gather(*calls)
    assert sorted(rec.batches) == batches  # the order they commit in is theirs
    assert rec.most_open == most_open
    assert not group._running and group._untaken == 0  # nothing left behind


async def test_an_item_submitted_as_the_last_worker_finishes_is_still_handled() -> None:
    rec = Recorder()
    rec.gate.set()
    group = GroupCommit(8, rec.run_batch, rec.run_alone, workers=2)
    for n in range(20):  # each one arrives just as the previous batch ends
        await asyncio.wait_for(group.submit(n), 2)
    assert sum(rec.batches, []) == list(range(20))
