"""Update-id order per chat across processes sharing one PostgreSQL database.

What is promised (README, "Per-chat order"): updates of one chat are handled one at
a time, and an update is handled only after every older update of its chat that any
process had received by then, unless that one stays unhandled for ``wait`` (its
process died; Telegram sends it again, unanswered, and it is handled then). An
update that reaches us only after a newer one of its chat was handled is still
handled: nothing is dropped, but nothing can be reordered before it either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Database
from bot.channels.port import Incoming
from storage import received

log = logging.getLogger("postsale.engine")


class OutOfTurn(Exception):
    """An older update of the chat is received and not yet handled: roll back, retry."""


def sequence(incoming: Incoming) -> int | None:
    """The update's place in its channel's sequence (Telegram's update ids), if it has one."""
    return int(incoming.update_id) if incoming.update_id.isdigit() else None


class UpdateOrder:
    """Notes each update on arrival and holds a newer one back behind an older one."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        *,
        wait: timedelta = timedelta(seconds=10),
        poll: float = 0.02,
    ) -> None:
        self.db = db
        self.clock = clock
        self.wait = wait
        self.poll = poll
        self._overdue: set[tuple[str, int]] = set()  # waited long enough: handled anyway

    async def run(self, incoming: Incoming, handle: Callable[[Incoming], Awaitable[None]]) -> None:
        """Note ``incoming``, then ``handle`` it (which calls ``check``) until in turn."""
        seq = sequence(incoming)
        if seq is None:
            await handle(incoming)
            return
        await received.note_received(
            self.db.engine, incoming.channel, incoming.chat_id, seq, self.clock()
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait.total_seconds()
        key = (incoming.channel, seq)
        try:
            while True:
                try:
                    await handle(incoming)
                    return
                except OutOfTurn:
                    if loop.time() >= deadline:
                        log.warning(
                            "update %s:%s waited %ss for an older one of chat %s; handled now",
                            *key,
                            self.wait.total_seconds(),
                            incoming.chat_id,
                        )
                        self._overdue.add(key)
                    else:
                        await asyncio.sleep(self.poll)
        except Exception:
            # Failed (Telegram sends it again): newer updates of the chat need not wait.
            await self._forget(incoming, seq)
            raise
        finally:
            self._overdue.discard(key)

    async def _forget(self, incoming: Incoming, seq: int) -> None:
        await received.forget_received(self.db.engine, incoming.channel, seq)

    async def check(self, session: AsyncSession, incoming: Incoming, now: datetime) -> None:
        """In the handling transaction: raise ``OutOfTurn`` while an older update waits."""
        seq = sequence(incoming)
        if seq is None:
            return
        channel, since = incoming.channel, now - self.wait
        waiting = await received.older_one_waiting(
            session, channel, incoming.chat_id, seq, since=since
        )
        if waiting and (channel, seq) not in self._overdue:
            raise OutOfTurn
