"""The outbox sender's results, written as they come: sends arriving together share one
commit (group commit), each send waiting until its result is committed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Database
from storage import outbox_state as ob

Write = Callable[[AsyncSession, datetime], Awaitable[object]]


class Marks:
    """Writes send results; results arriving together share one commit (group commit)."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock
        self._pending: list[tuple[Write, asyncio.Future[None]]] = []
        self._sent: list[tuple[int, str]] = []
        self._sent_futures: list[asyncio.Future[None]] = []
        self._event = asyncio.Event()

    async def write(self, action: Write) -> None:
        """Return once ``action`` is committed (raises if the commit failed)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((action, future))
        self._event.set()
        await future

    async def sent(self, message_id: int, remote_id: str) -> None:
        """Return once the message is recorded as sent."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent.append((message_id, remote_id))
        self._sent_futures.append(future)
        self._event.set()
        await future

    async def run(self) -> None:
        while True:
            await self._event.wait()
            taken: list[asyncio.Future[None]] = []
            try:
                await self._write_batch(taken)
            except Exception as exc:
                if not taken:  # the transaction did not open: fail what is waiting
                    self._event.clear()
                    taken = [f for _, f in self._pending] + self._sent_futures
                    self._pending, self._sent, self._sent_futures = [], [], []
                _settle(taken, exc)
            else:
                _settle(taken, None)

    async def _write_batch(self, taken: list[asyncio.Future[None]]) -> None:
        """Commit what is waiting; ``taken`` gets the futures of the results written."""
        # The batch is taken once the transaction is open: results that come in
        # while it waits for the writer (SQLite: the engine's commit) join it.
        # Its statements touch a few rows by primary key: no thread trips.
        async with self.db.uow(small=True) as uow:
            self._event.clear()
            batch, self._pending = self._pending, []
            sent, self._sent = self._sent, []
            taken.extend([f for _, f in batch] + self._sent_futures)
            self._sent_futures = []
            if not taken:
                return
            now = self.clock()
            await ob.mark_sent(uow.session, sent, now)
            for action, _ in batch:
                await action(uow.session, now)
            await uow.commit()


def _settle(futures: list[asyncio.Future[None]], exc: Exception | None) -> None:
    """Answer every waiting writer: done, or the error its commit met."""
    for future in (f for f in futures if not f.done()):
        if exc is None:
            future.set_result(None)
        else:
            future.set_exception(exc)
