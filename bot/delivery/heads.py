"""The chats' head messages the outbox sender holds, and when each may go.

Only a chat's oldest queued message is ever held (per-chat order); at most ``limit``
chats at once (memory). Heads wait in a heap by the time they may go, then in one by
message id, so the oldest ready message goes first.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable, Collection
from datetime import datetime

from bot.app import Database
from bot.delivery.attempt import Entry
from bot.delivery.limits import ChatPacers
from storage import outbox_state as ob

Key = tuple[str, str]


class Heads:
    """Head messages by chat, with their place in line."""

    def __init__(self, chats: ChatPacers, limit: int) -> None:
        self.chats = chats
        self.limit = limit
        self.known: dict[Key, Entry] = {}
        self._ready: list[tuple[int, Key]] = []  # by message id: oldest first
        self._waiting: list[tuple[float, int, Key]] = []  # by the time it may go
        self._finished: set[int] = set()  # done since the current read of the outbox began

    def __len__(self) -> int:
        return len(self.known)

    def forget(self) -> None:
        self.known.clear()
        self._ready.clear()
        self._waiting.clear()
        self._finished.clear()

    async def read(
        self, db: Database, channels: Collection[str], clock: Callable[[], datetime]
    ) -> int:
        """Take in the head message of chats not yet held; returns how many it found."""
        self._finished.clear()
        if self.limit - len(self.known) <= 0:
            return len(self.known)  # full: a read could only bring chats we hold
        async with db.reader() as uow:
            heads = await ob.chat_heads(
                uow.session, channels, self.limit - len(self.known), skip=list(self.known)
            )
        wall, mono = clock(), asyncio.get_running_loop().time()
        room = self.limit - len(self.known)
        for head in heads:
            if room <= 0:
                break
            if head.key in self.known or head.id in self._finished:
                continue
            entry = Entry(head, head.attempts, head.unknowns)
            self.known[head.key] = entry
            ready = self.chats.ready_at(head.key)
            if head.not_before is not None:
                ready = max(ready, mono + (head.not_before - wall).total_seconds())
            self.schedule(entry, ready)
            room -= 1
        return len(heads)

    def schedule(self, entry: Entry, ready_at: float) -> None:
        heapq.heappush(self._waiting, (ready_at, entry.head.id, entry.head.key))

    def next_due(self) -> float | None:
        """When the first waiting head may go (None: none waits)."""
        return self._waiting[0][0] if self._waiting else None

    def next_ready(self, now: float) -> Entry | None:
        """The oldest head that may go now and is not in flight."""
        while self._waiting and self._waiting[0][0] <= now:
            _, message_id, key = heapq.heappop(self._waiting)
            heapq.heappush(self._ready, (message_id, key))
        while self._ready:
            message_id, key = heapq.heappop(self._ready)
            entry = self.known.get(key)
            if entry is None or entry.head.id != message_id or entry.in_flight:
                continue  # stale heap item
            chat_ready = self.chats.ready_at(key)
            if chat_ready > now:  # paused by a 429 since it was scheduled
                self.schedule(entry, chat_ready)
                continue
            return entry
        return None

    def done(self, head: ob.Head) -> None:
        """The head's result is recorded: its chat's next message may be read in."""
        self.known.pop(head.key, None)
        self._finished.add(head.id)

    def drop(self, head: ob.Head) -> None:
        """Forget the head without a result: the next read finds it queued again."""
        self.known.pop(head.key, None)


__all__ = ["Heads"]
