"""Group commit: updates of different chats that queue together share one transaction.

SQLite has one writer, so updates of different chats wait for each other anyway.
Rather than each waiting for its own ``BEGIN``/``COMMIT``, the updates that queued
while a transaction ran go into the next one together (one worker). PostgreSQL runs
transactions side by side, so there a few workers each take what has queued: chats
still run in parallel, and a ``BEGIN``/``COMMIT`` (and a WAL flush) serves several.

Each update is still all-or-nothing (DESIGN.md invariant 1): its writes are never
split across commits, and when one update of a batch fails (a deadlock too), the
batch is rolled back and every update in it is handled again alone, so only the
failing one is lost to its error.

Per-chat order is kept by the caller: ``Pipeline.handle`` holds the chat's lock while
its update waits here, so no batch, nor two at once, holds two updates of one chat.
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
    """Runs submitted items in batches of at most ``limit``, ``workers`` batches at a time.

    ``run_batch(take)`` opens its transaction, calls ``take()`` once for the items to
    handle (whatever queued until then), and commits. ``run_alone(item)`` handles
    one item in a transaction of its own: the fallback after a failed batch.
    A new worker starts only while every running one has taken its batch already, so
    items that queue meanwhile wait for the next free worker and go in together.
    """

    def __init__(
        self,
        limit: int,
        run_batch: Callable[[Take[T]], Awaitable[None]],
        run_alone: Callable[[T], Awaitable[None]],
        *,
        workers: int = 1,
    ) -> None:
        self.limit = max(1, limit)
        self.workers = max(1, workers)
        self._run_batch = run_batch
        self._run_alone = run_alone
        self._queue: deque[tuple[T, asyncio.Future[None]]] = deque()
        self._running: set[asyncio.Task[None]] = set()
        self._untaken = 0  # batches begun whose take() has not run yet
        self.batches = 0  # committed batches, for tests and benchmarks
        self.largest = 0

    async def submit(self, item: T) -> None:
        """Return once ``item``'s transaction has committed (or raise its error).

        A caller cancelled before its item was taken leaves it out of every batch.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if len(self._running) < self.workers and self._untaken == 0:
            self._untaken += 1  # now: what is submitted before it runs waits for it
            worker = asyncio.create_task(self._work(), name="group-commit")
            self._running.add(worker)
        await future

    async def _work(self) -> None:
        counted = True  # submit() counted this worker's first batch
        try:
            while self._queue:
                first, counted = counted, False
                await self._one_batch(first)
        finally:
            if counted:  # no batch began: the queue was emptied meanwhile
                self._untaken -= 1
            # At once, not in a done callback: an item submitted in between would find
            # no free worker and wait for ever.
            self._running.discard(asyncio.current_task())
            if not self._running:
                # Cancelled at shutdown: nothing left here was handled.
                while self._queue:
                    self._queue.popleft()[1].cancel()

    async def _one_batch(self, counted: bool) -> None:
        taken: list[tuple[T, asyncio.Future[None]]] = []
        if not counted:
            self._untaken += 1
        untaken = True

        def take() -> list[T]:
            nonlocal untaken
            if untaken:
                untaken = False
                self._untaken -= 1
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
        finally:
            if untaken:  # cancelled before it took
                self._untaken -= 1
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
