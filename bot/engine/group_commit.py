"""Group commit: updates of different chats share SQLite's next write transaction.

SQLite has one writer, so updates of different chats wait for each other anyway.
Rather than each waiting for its own ``BEGIN``/``COMMIT``, the updates that queued
while a transaction ran go into the next one together. Each update is still
all-or-nothing (DESIGN.md invariant 1): its writes are never split across commits,
and when one update of a batch fails, the batch is rolled back and every update in
it is handled again alone, so only the failing one is lost to its error.

Per-chat order is kept by the caller: ``Pipeline.handle`` holds the chat's lock while
its update waits here, so a batch never holds two updates of one chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger("postsale.engine")

T = TypeVar("T")
Take = Callable[[], list[T]]


class GroupCommit(Generic[T]):
    """Runs submitted items in batches of at most ``limit``, one batch at a time.

    ``run_batch(take)`` opens its transaction, calls ``take()`` once for the items to
    handle (whatever queued until then), and commits. ``run_alone(item)`` handles
    one item in a transaction of its own: the fallback after a failed batch.
    """

    def __init__(
        self,
        limit: int,
        run_batch: Callable[[Take[T]], Awaitable[None]],
        run_alone: Callable[[T], Awaitable[None]],
    ) -> None:
        self.limit = max(1, limit)
        self._run_batch = run_batch
        self._run_alone = run_alone
        self._queue: deque[tuple[T, asyncio.Future[None]]] = deque()
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0  # committed batches, for tests and benchmarks
        self.largest = 0

    async def submit(self, item: T) -> None:
        """Return once ``item``'s transaction has committed (or raise its error).

        A caller cancelled before its item was taken leaves it out of every batch.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(), name="group-commit")
        await future

    async def _work(self) -> None:
        try:
            while self._queue:
                await self._one_batch()
        finally:
            self._worker = None
            # Cancelled at shutdown: nothing left here was handled.
            while self._queue:
                self._queue.popleft()[1].cancel()

    async def _one_batch(self) -> None:
        taken: list[tuple[T, asyncio.Future[None]]] = []

        def take() -> list[T]:
            while self._queue and len(taken) < self.limit:
                item, future = self._queue.popleft()
                if not future.cancelled():
                    taken.append((item, future))
            return [item for item, _ in taken]

        try:
            await self._run_batch(take)
        except Exception as exc:
            if not taken:  # the transaction did not open: fail what is waiting
                take()
                _settle_all(taken, exc)
            else:
                await self._failed(taken, exc)
            return
        self.batches += 1
        self.largest = max(self.largest, len(taken))
        for _, future in taken:
            _settle(future, None)

    async def _failed(self, taken: list[tuple[T, asyncio.Future[None]]], exc: Exception) -> None:
        """A batch failed: one update meets its error; several are each handled alone."""
        if len(taken) == 1:
            _settle_all(taken, exc)
            return
        log.warning("a batch of %d updates failed (%r); each alone now", len(taken), exc)
        for item, future in taken:
            try:
                await self._run_alone(item)
            except Exception as alone:
                _settle(future, alone)
            else:
                _settle(future, None)


def _settle_all(taken: list[tuple[T, asyncio.Future[None]]], exc: BaseException) -> None:
    for _, future in taken:
        _settle(future, exc)


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
