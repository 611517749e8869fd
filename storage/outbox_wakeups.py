"""Wake-ups between processes on one PostgreSQL database: LISTEN/NOTIFY.

Several ``postsale run`` processes share a database and one of them sends the outbox
(the lease holder). Its own engine wakes its sender in memory; a message queued by
another process would wait for the sender's next poll of the outbox (a second). So
each process keeps one connection of its own, outside the pool: it LISTENs there and,
when it queued messages while another process sends, NOTIFYs there. At most one
NOTIFY is in flight; requests meanwhile become one more after it, so a busy process
sends a few a round trip, not one an update. A wake-up is a hint, never the only
path: a lost connection (a restart of the server) costs the poll's second until it
is back (tried every ``retry_every`` seconds), and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("postsale.outbox")

CHANNEL = "postsale_outbox"


class OutboxWakeups:
    """LISTENs for other processes' wake-ups (``on_wake``) and sends its own (``notify``)."""

    def __init__(
        self, engine: AsyncEngine, on_wake: Callable[[], None], *, retry_every: float = 5.0
    ) -> None:
        # The pool's own connect arguments (host, port, user, password, database, ssl).
        _, self._connect_args = engine.dialect.create_connect_args(engine.url)
        self.on_wake = on_wake
        self.retry_every = retry_every
        self._conn: Any = None  # asyncpg.Connection while connected
        self._pending = False  # a NOTIFY was asked for while one was in flight
        self._notifying: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self._listening = asyncio.Event()
        self.sent = 0  # NOTIFYs sent, for tests and benchmarks
        self.received = 0  # other processes' wake-ups received

    async def start(self) -> None:
        """Connect and LISTEN (or, when the server does not answer, keep trying)."""
        self._keeper = asyncio.create_task(self._keep_listening(), name="outbox wake-ups")

    def notify(self) -> None:
        """Tell the other processes that messages were queued (returns at once)."""
        if self._notifying is not None:
            self._pending = True
            return
        if self._conn is None:
            return  # not connected: the sender's poll finds the messages
        self._notifying = asyncio.create_task(self._notify())

    async def close(self) -> None:
        self._closed.set()
        for task in (self._notifying, self._keeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._disconnect()

    async def wait_listening(self, within: float = 10.0) -> None:
        """Until the LISTEN is in place (tests)."""
        await asyncio.wait_for(self._listening.wait(), within)

    # -- the connection -----------------------------------------------------------------

    async def _keep_listening(self) -> None:
        while not self._closed.is_set():
            if self._conn is None or self._conn.is_closed():
                await self._disconnect()
                try:
                    await self._connect()
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("outbox wake-ups: cannot connect (%s); retrying", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self.retry_every)

    async def _connect(self) -> None:
        conn = await asyncpg.connect(**self._connect_args)
        try:
            await conn.add_listener(CHANNEL, self._heard)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        self._listening.set()

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        self._listening.clear()
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    def _heard(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        if pid != conn.get_server_pid():  # our own NOTIFY comes back to us too
            self.received += 1
            self.on_wake()

    async def _notify(self) -> None:
        try:
            while True:
                self._pending = False
                conn = self._conn
                if conn is None:
                    return
                try:
                    await conn.execute(f"NOTIFY {CHANNEL}")
                    self.sent += 1
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("outbox wake-ups: NOTIFY failed (%s)", exc)
                    return  # the keeper reconnects; the poll covers the gap
                if not self._pending:
                    return
        finally:
            self._notifying = None
