"""Per-chat ordering with concurrency across chats (DESIGN.md invariant 3).

``ChatQueue.submit(key, job)`` runs the jobs of one key one at a time, in the order
they were submitted, while jobs of different keys run concurrently (at most
``limit`` at once). The order is fixed synchronously at ``submit`` time, so callers
may submit from a loop without awaiting. A key's entry lives only while it has
work: an idle chat costs no memory, however many customers there are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger("postsale.channels")

Job = Callable[[], Awaitable[None]]


class ChatQueue:
    """One FIFO and one worker per busy key; at most ``limit`` jobs run at once."""

    def __init__(self, limit: int = 256) -> None:
        self._pending: dict[Hashable, deque[tuple[Job, asyncio.Future[None]]]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max(1, limit))

    def __len__(self) -> int:
        """How many keys have work queued or running."""
        return len(self._pending)

    def submit(self, key: Hashable, job: Job) -> asyncio.Future[None]:
        """Queue ``job`` behind the earlier jobs of ``key``; the future says how it ended."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._pending.get(key)
        if queue is not None:
            queue.append((job, future))
            return future
        self._pending[key] = deque([(job, future)])
        worker = asyncio.create_task(self._drain(key))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)
        return future

    async def _drain(self, key: Hashable) -> None:
        queue = self._pending[key]
        try:
            while queue:
                job, future = queue[0]
                async with self._slots:
                    try:
                        await job()
                    except Exception as exc:
                        if not future.done():
                            future.set_exception(exc)
                    else:
                        if not future.done():
                            future.set_result(None)
                queue.popleft()
        finally:
            # Cancelled (only at shutdown): whatever is left is cancelled too.
            for _, future in queue:
                future.cancel()
            del self._pending[key]

    async def join(self) -> None:
        """Wait until every submitted job has finished."""
        while self._workers:
            await asyncio.gather(*list(self._workers), return_exceptions=True)

    async def cancel(self) -> None:
        """Cancel everything still queued or running (the last resort at shutdown)."""
        for worker in list(self._workers):
            worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*list(self._workers), return_exceptions=True)
