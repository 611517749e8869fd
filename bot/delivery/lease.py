"""One outbox sender per database, however many bot processes share it.

Several ``postsale run`` processes may share a PostgreSQL database (or, on one machine,
a SQLite file). Each would otherwise read the same queued messages and send them
twice, and each would spend Telegram's whole rate limit on its own. The sender
therefore runs only in the process holding the lease; the others stand by and take
over when it goes away.

The lease is a lock the operating system or the database server drops when its
holder dies, even by SIGKILL, so no expiry time has to be guessed: a PostgreSQL
session-level advisory lock on a connection kept for the purpose, or, for SQLite, an
exclusive ``flock`` on a file beside the database file.

The PostgreSQL lock also goes when only its connection dies (a server restart, an
idle-session timeout, ``pg_terminate_backend``) while the process lives on. So the
sender fences its sends on the lock: no send starts on a check of ``pg_locks`` older
than ``SendLimits.fence_every``, and a lost lock stops it; a process taking the lease
waits ``TAKEOVER_GRACE`` before it sends, for the sends the other had in flight to
finish and be recorded. A send lasting longer than that grace when the lock is lost
is the one that could still go twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.delivery.sender import Fence, LeaseLost
from bot.metrics import Metrics

log = logging.getLogger("postsale.outbox")

# An arbitrary 64-bit key naming "the outbox sender" among advisory locks.
ADVISORY_KEY = 0x706F_7374_7361_6C65  # "postsale"
UNLOCK = text("SELECT pg_advisory_unlock(:key)")
RETRY_EVERY = 2.0  # seconds between attempts of a process standing by
TAKEOVER_GRACE = 3.0  # seconds a new holder waits before sending (PostgreSQL)
# Our lock among the server's locks: a bigint key is (classid, objid) = its two halves.
HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND objsubid = 1"
    " AND classid::bigint = :high AND objid::bigint = :low)"
)


class SenderLease:
    """``await lease.try_acquire()``, then ``await lease.release()``."""

    def __init__(self, engine: AsyncEngine, grace: float = TAKEOVER_GRACE) -> None:
        self.engine = engine
        self.grace = grace if engine.dialect.name == "postgresql" else 0.0
        self._conn: AsyncConnection | None = None
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Held as of the last ``try_acquire`` or ``still_held`` (a lock can go since)."""
        return self._conn is not None or self._fd is not None

    async def still_held(self) -> bool:
        """Ask the server whether the lock is still ours; forget it when it is not."""
        if self._conn is None:
            return self._fd is not None  # a flock lasts as long as its file is open
        try:
            held = bool(
                await self._conn.scalar(
                    HELD, {"high": ADVISORY_KEY >> 32, "low": ADVISORY_KEY & 0xFFFF_FFFF}
                )
            )
            await self._conn.commit()
        except Exception:
            log.warning("the outbox lease's connection failed", exc_info=True)
            held = False
        if not held:
            log.error("the outbox lease is lost: this process stops sending")
            await self.release()
        return held

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; True when this process holds it."""
        if self.held:
            return await self.still_held()
        if self.engine.dialect.name == "postgresql":
            return await self._try_advisory()
        path = lock_path(self.engine)
        if path is None:  # an in-memory database lives in one process only
            self._fd = -1
            return True
        return self._try_flock(path)

    async def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            # close() only returns the connection to the pool, where the session (and a
            # session-level lock) would live on: unlock first, or else discard it.
            try:
                await conn.scalar(UNLOCK, {"key": ADVISORY_KEY})
                await conn.commit()
                await conn.close()
            except Exception:
                with contextlib.suppress(Exception):
                    await conn.invalidate()
                    await conn.close()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            if fd >= 0:
                os.close(fd)  # drops the flock

    async def _try_advisory(self) -> bool:
        conn = await self.engine.connect()
        try:
            got = await conn.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
            )
            # End the implicit transaction; the session-level lock outlives it.
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if got:
            self._conn = conn
            return True
        await conn.close()
        return False

    def _try_flock(self, path: Path) -> bool:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True


def lock_path(engine: AsyncEngine) -> Path | None:
    """The SQLite lease file beside the database file; None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or engine.url.query.get("mode") == "memory":
        return None
    return Path(database + "-sender.lock")


async def run_with_lease(
    lease: SenderLease,
    stop: asyncio.Event,
    run: Callable[[Fence], Awaitable[None]],
    retry_every: float = RETRY_EVERY,
    metrics: Metrics | None = None,
) -> None:
    """Run ``run(fence)`` while this process holds the lease; stand by until then (or
    ``stop``). ``run`` gets ``lease.still_held`` to fence its sends, and raises
    ``LeaseLost`` when it says no: the process stands by again. ``metrics``' gauge
    ``postsale_outbox_sender`` says meanwhile whether this process holds the lease."""
    told = False
    holding = metrics.outbox_sender.set if metrics is not None else _ignore
    try:
        while not stop.is_set():
            if not await _acquired(lease, stop, retry_every, told):
                told = True
                continue
            holding(1)
            if told:
                log.info("this process now sends the outbox")
            if lease.grace and await _stopped(stop, lease.grace):
                return
            try:
                await run(lease.still_held)
                return
            except LeaseLost:
                holding(0)
                await lease.release()
                told = False
    finally:
        holding(0)
        await lease.release()


def _ignore(value: float) -> None:
    """No gauge to set (a caller without metrics)."""


async def _acquired(lease: SenderLease, stop: asyncio.Event, wait: float, told: bool) -> bool:
    try:
        if await lease.try_acquire():
            return True
    except Exception:
        log.exception("could not ask for the outbox lease; trying again")
    if not told:
        log.info("another process sends the outbox; this one stands by")
    await _stopped(stop, wait)
    return False


async def _stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` or until ``stop``; True when stopped."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
