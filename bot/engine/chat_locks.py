"""Per-chat ordering: one update of a chat at a time, in arrival order, chats in parallel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedLocks:
    """A FIFO lock per key, dropped when nobody holds or waits for it.

    ``asyncio.Lock`` wakes its waiters in the order they queued, so updates of one
    chat that reach ``hold`` in arrival order are handled in that order (DESIGN.md
    invariant 3). Entries live only while in use: memory does not grow with the
    number of chats ever seen (invariant 5).
    """

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
