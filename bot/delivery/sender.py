"""The outbox sender (DESIGN.md invariant 4): queued messages out, within each channel's limits.

* Per-chat order: only a chat's oldest queued message is ever in memory or in flight.
* Channels: rows go to the channel they name; each declares its limits (given a
  ``SendLimits``, its rates override every channel's: tests and benchmarks pace so) and
  its capabilities (buttons are wrapped to its rows; an edit it cannot make is skipped).
* Limits: one pacer for all of a channel's chats, one per chat (groups, as the channel
  tells them, per minute); a 429 pauses the chat and its channel.
* Failures: network/5xx are retried with capped exponential backoff and jitter until
  the message's deadline (``bot.delivery.retry``; the retry time is stored in
  ``not_before``, so a restart keeps it); a send whose answer was lost is retried once,
  then kept as "unknown"; 403 fails the chat's messages as "blocked" and marks the
  customer unreachable; 400 fails with the reason. An attachment that fails is queued
  again behind the chat's later messages, its text sent now.
* Fencing: with a ``fence`` (the lease's check), no send starts on a check older than
  ``fence_every``; a lost lease stops the sender. One message's send: ``attempt``.
* Crash safety: a message is marked sent in its own commit right after the send
  succeeds, and a send slot is freed only after that commit. A crash between an
  HTTP send and its commit can therefore repeat at most ``concurrency`` messages
  (the sends in flight); nothing is lost.
* Memory: at most ``heads`` chats are held (``heads``); idle per-chat pacers are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from bot.app import Database
from bot.channels.port import Channel
from bot.delivery.attempt import (
    BodyRenderer,
    Delivery,
    Entry,
    OnSent,
    SenderStats,
)
from bot.delivery.heads import Heads
from bot.delivery.limits import Pacing, SendLimits
from bot.delivery.loop_state import DIRTY_GAP, LoopState
from bot.delivery.marks import Marks
from bot.delivery.progress import log_progress
from bot.settings import Settings

log = logging.getLogger("postsale.outbox")

Fence = Callable[[], Awaitable[bool]]


class LeaseLost(Exception):
    """The sender's lease is gone: another process may be sending now."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxSender:
    """Sends queued outbox rows through ``channels`` (by ``OutboxMessage.channel`` name)."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        limits: SendLimits | Settings,
        clock: Callable[[], datetime] = utcnow,
        *,
        render_body: BodyRenderer | None = None,
        on_sent: OnSent | None = None,
        log_every: float = 5.0,
    ) -> None:
        self.db = db
        self.channels = dict(channels)
        told = isinstance(limits, SendLimits)
        self.limits = limits if isinstance(limits, SendLimits) else SendLimits.from_settings(limits)
        self.clock = clock
        self.log_every = log_every
        self._pacing = Pacing(self.channels, self.limits, own_rates=not told)
        self._chats = self._pacing.chats
        self._heads = Heads(self._chats, self.limits.heads)
        self._tasks: set[asyncio.Task[None]] = set()
        self._signal = asyncio.Event()
        self._running = False
        # How a wake-up reaches the process that sends (storage.outbox_wakeups).
        self.tell_others: Callable[[], None] | None = None
        self._wake_requested = True
        self._dirty = False
        self._marks = Marks(db, clock)
        self._slots = asyncio.Semaphore(self.limits.concurrency)
        deliver = Delivery(self.channels, self.limits, self._marks, clock, render_body=render_body)
        deliver.on_sent = on_sent
        self.delivery = deliver
        self.stats = self.delivery.stats

    def wake(self) -> None:
        """New messages were queued (e.g. by the engine): read the outbox now. While this
        process does not send (another holds the lease), ``tell_others`` passes it on."""
        self.woken()
        if not self._running and self.tell_others is not None:
            self.tell_others()

    def woken(self) -> None:
        """Another process queued messages: read the outbox now (if this one sends)."""
        self._wake_requested = True
        self._signal.set()

    def forget_idle(self) -> None:
        """Drop the pacers of chats that may be sent to again right away."""
        self._chats.forget_idle(asyncio.get_running_loop().time())

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    @property
    def chats_in_memory(self) -> int:
        return len(self._heads) + len(self._chats)

    @property
    def sends_in_memory(self) -> int:
        """Sends the channels' pacers remember (their one-second windows)."""
        return sum(len(pacer) for pacer in self._pacing.overall.values())

    # -- the loop ---------------------------------------------------------------------

    async def run(
        self,
        stop: asyncio.Event | None = None,
        *,
        until_idle: bool = False,
        fence: Fence | None = None,
    ) -> None:
        """Send until ``stop`` is set (or, with ``until_idle``, until nothing is queued).

        With ``fence``, raises ``LeaseLost`` (after the sends in flight) once it says no.
        """
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        self._forget()  # a run after a lost lease starts from the database, not memory
        self._running = True
        marks = asyncio.create_task(self._marks.run())
        watcher = asyncio.create_task(self._relay(stop))
        state = LoopState(next_log=loop.time() + self.log_every, logged=(0, 0, loop.time()))
        try:
            while not stop.is_set():
                now = loop.time()
                if self._read_step(state, now) and until_idle:
                    return
                if now >= state.next_log:
                    state.logged = await log_progress(self.db, self.stats, state.logged)
                    state.next_log = now + self.log_every
                    self._chats.forget_idle(now)
                entry = self._heads.next_ready(now)
                if entry is None:
                    await self._idle(state, now)
                    continue
                if not await self._admit(entry, stop, fence, state):
                    break
                self._start(entry, loop.time())
        finally:
            self._running = False
            watcher.cancel()
            if state.reader is not None:
                # Let a read in progress finish (milliseconds) rather than cancel it: a
                # query cancelled mid-way can leave its connection in a transaction
                # (on SQLite, holding the write lock: every BEGIN is IMMEDIATE) while
                # the results below are committed and the database is closed.
                with contextlib.suppress(Exception):
                    await state.reader
            if self._tasks or self.delivery.telling:
                await asyncio.gather(*self._tasks, *self.delivery.telling, return_exceptions=True)
            marks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await marks
            await log_progress(self.db, self.stats, state.logged, final=True)

    def _read_step(self, state: LoopState, now: float) -> bool:
        """Start a read of the outbox when one is due, take in a finished one; True when
        a read begun with nothing in hand found nothing (``until_idle``'s end)."""
        if state.reader is None and self._should_read(now, state.next_read, state.last_read):
            self._wake_requested = self._dirty = False
            state.read_when_idle = not self._heads and not self._tasks
            state.reader = asyncio.create_task(
                self._heads.read(self.db, self.channels.keys(), self.clock)
            )
            state.reader.add_done_callback(lambda _: self._signal.set())
            state.last_read = now
        if state.reader is None or not state.reader.done():
            return False
        found = state.take_read()
        state.next_read = asyncio.get_running_loop().time() + self.limits.poll_interval
        return state.read_when_idle and found == 0 and not self._heads

    async def _idle(self, state: LoopState, now: float) -> None:
        """Nothing may go now: wait for the next due message, read or wake."""
        # A running read wakes us when it is done.
        horizon = now + self.limits.poll_interval if state.reader else state.next_read
        if state.reader is None and self._wake_requested:
            horizon = min(horizon, state.last_read + self.limits.read_gap)
        elif state.reader is None and self._dirty and self._starving():
            horizon = min(horizon, state.last_read + DIRTY_GAP)  # a chat's next message
        due = self._heads.next_due()
        wait_until = horizon if due is None else min(horizon, due)
        await self._pause(max(0.0, wait_until - now))

    async def _admit(
        self, entry: Entry, stop: asyncio.Event, fence: Fence | None, state: LoopState
    ) -> bool:
        """Take a send slot and wait for the channel's pacer; False when stopping.

        Raises ``LeaseLost`` when the fence says another process may be sending.
        """
        loop = asyncio.get_running_loop()
        await self._slots.acquire()
        pacer = self._pacing.overall[entry.head.channel]
        # Usually a few milliseconds; after a 429 seconds, after a halt minutes: a stop
        # must not wait for it.
        while (delay := pacer.delay(loop.time())) > 0 and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            self._slots.release()
            return False
        if fence is not None and loop.time() - state.fenced >= self.limits.fence_every:
            if not await fence():
                self._slots.release()
                raise LeaseLost("the outbox lease was lost: this process stops sending")
            state.fenced = loop.time()
        return True

    def _forget(self) -> None:
        self._heads.forget()
        self._wake_requested = True

    def _should_read(self, now: float, next_read: float, last_read: float) -> bool:
        if now >= next_read:
            return True
        if self._wake_requested:
            # Wakes that come close together (an update committed every few
            # milliseconds) share one read rather than each paying for their own.
            return now - last_read >= self.limits.read_gap
        # A chat finished: its next message may be waiting; read soon, but not per send.
        return self._dirty and self._starving() and now - last_read >= DIRTY_GAP

    def _starving(self) -> bool:
        return len(self._heads) < self.limits.heads // 2

    async def _relay(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._signal.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._signal.wait(), seconds)
        self._signal.clear()

    def _start(self, entry: Entry, now: float) -> None:
        entry.in_flight = True
        entry.stamp = self._pacing.overall[entry.head.channel].take(now)
        self._chats.take(entry.head.key, now)
        task = asyncio.create_task(self._send(entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.stats.max_in_flight = max(self.stats.max_in_flight, len(self._tasks))

    # -- one message ------------------------------------------------------------------

    async def _send(self, entry: Entry) -> None:
        head, stamp = entry.head, entry.stamp
        try:
            outcome = await self.delivery.attempt(entry)
            if outcome.pause_until is not None:
                self._pacing.pause(head.key, outcome.pause_until)
            if not outcome.done:
                self._retry_later(entry, outcome.retry_at)
            else:
                self._heads.done(head)
                await self.delivery.finish(entry)
        except Exception:
            # The result could not be stored: forget the message; the next read of the
            # outbox finds it queued again (this is where a duplicate can come from).
            log.exception("outbox message %s: could not record the result", head.id)
            self._heads.drop(head)
        finally:
            if stamp is not None:  # ended without leaving: its place is free
                stamp.close(asyncio.get_running_loop().time())
            self._slots.release()
            self._dirty = True
            self._signal.set()

    def _retry_later(self, entry: Entry, at: float) -> None:
        entry.in_flight = False
        self._heads.schedule(entry, at)


__all__ = ["BodyRenderer", "Fence", "LeaseLost", "OnSent", "OutboxSender", "SenderStats"]
