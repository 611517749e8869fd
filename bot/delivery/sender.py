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
  ``fence_every``; a lost lease stops the sender.
* Crash safety: a message is marked sent in its own commit right after the send
  succeeds, and a send slot is freed only after that commit. A crash between an
  HTTP send and its commit can therefore repeat at most ``concurrency`` messages
  (the sends in flight); nothing is lost.
* Memory: at most ``heads`` chats are held; idle per-chat pacers are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Database
from bot.channels.port import (
    Channel,
    Forbidden,
    Rejected,
    RetryAfter,
    Transient,
    Unconfirmed,
)
from bot.delivery.exports import discard_sent
from bot.delivery.limits import ChatPacers, Pacer, SendLimits
from bot.delivery.marks import Marks
from bot.delivery.outgoing import body_of_row, fit, to_outgoing
from bot.delivery.retry import UNKNOWN_AFTER, Answers, deadline_of
from bot.settings import Settings
from storage import outbox_retry as obr
from storage import outbox_state as ob
from storage.outbox_body import OutboxBody

log = logging.getLogger("postsale.outbox")

Key = tuple[str, str]
BodyRenderer = Callable[[OutboxBody], Awaitable[OutboxBody]]
Fence = Callable[[], Awaitable[bool]]
OnSent = Callable[[ob.Head], Awaitable[None]]


class LeaseLost(Exception):
    """The sender's lease is gone: another process may be sending now."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class SenderStats:
    """Counts since start, for progress lines, tests and benchmarks."""

    sent: int = 0
    failed: int = 0
    unknown: int = 0  # kept as "unknown": delivered or not, never sent again
    blocked: int = 0
    retried: int = 0
    rate_limited: int = 0  # 429s received
    max_in_flight: int = 0


@dataclass(eq=False)
class _Entry:
    head: ob.Head
    attempts: int
    unknowns: int = 0
    unknown_at: float = 0.0  # loop time of the latest lost answer
    in_flight: bool = False
    stamp: list[float] | None = None  # this send's place in the global pacer's window
    moved: bool = False  # the whole message went to a new row behind its chat's others


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
        # Each channel's rates: its own, unless the caller set them for all.
        self._rates = {
            name: self.limits if told else self.limits.within(channel.limits)
            for name, channel in self.channels.items()
        }
        self.clock = clock
        self.render_body = render_body
        # Called once a message is recorded as sent, with its row as queued (the seam
        # for work that must follow a delivery, such as removing an export file).
        self.on_sent = on_sent
        self.log_every = log_every
        self.stats = SenderStats()
        self._globals = {
            name: Pacer(
                rates.global_rate,
                margin=rates.margin,
                tolerance=rates.catch_up,
                safety=rates.safety,
            )
            for name, rates in self._rates.items()
        }
        self._chats = ChatPacers(self._chat_interval)
        self._known: dict[Key, _Entry] = {}
        self._ready: list[tuple[int, Key]] = []  # by message id: oldest first
        self._waiting: list[tuple[float, int, Key]] = []  # by the time it may go
        self._finished: set[int] = set()  # done since the current read of the outbox began
        self._tasks: set[asyncio.Task[None]] = set()
        self._signal = asyncio.Event()
        self._wake_requested = True
        self._dirty = False
        self._marks = Marks(db, clock)
        self._slots = asyncio.Semaphore(self.limits.concurrency)
        self._answers = Answers()

    def _chat_interval(self, key: Key) -> float:
        group = self.channels[key[0]].is_group(key[1])
        return self._rates[key[0]].chat_interval(group)

    def wake(self) -> None:
        """New messages were queued (e.g. by the engine): read the outbox now."""
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
        return len(self._known) + len(self._chats)

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
        marks = asyncio.create_task(self._marks.run())
        watcher = asyncio.create_task(self._relay(stop))
        next_read = last_read = 0.0
        next_log = loop.time() + self.log_every
        logged = (0, 0, loop.time())
        # The outbox is read in the background, so sending never stalls on a query.
        reader: asyncio.Task[int] | None = None
        read_when_idle = False
        fenced = -math.inf
        try:
            while not stop.is_set():
                now = loop.time()
                if reader is None and self._should_read(now, next_read, last_read):
                    self._wake_requested = self._dirty = False
                    read_when_idle = not self._known and not self._tasks
                    reader = asyncio.create_task(self._read())
                    reader.add_done_callback(lambda _: self._signal.set())
                    last_read = now
                if reader is not None and reader.done():
                    found = self._read_result(reader)
                    reader = None
                    next_read = loop.time() + self.limits.poll_interval
                    if until_idle and read_when_idle and found == 0 and not self._known:
                        return
                if now >= next_log:
                    logged = await self._log_progress(logged)
                    next_log = now + self.log_every
                    self._chats.forget_idle(now)
                entry = self._next_ready(now)
                if entry is None:
                    # A running read wakes us when it is done.
                    horizon = now + self.limits.poll_interval if reader else next_read
                    if reader is None and self._wake_requested:
                        horizon = min(horizon, last_read + self.limits.read_gap)
                    wait_until = min(horizon, self._waiting[0][0] if self._waiting else horizon)
                    await self._pause(max(0.0, wait_until - now))
                    continue
                await self._slots.acquire()
                pacer = self._globals[entry.head.channel]
                # Usually a few milliseconds; after a 429 it may be seconds.
                while (delay := pacer.delay(loop.time())) > 0 and not stop.is_set():  # noqa: ASYNC110
                    await asyncio.sleep(delay)
                if stop.is_set():
                    self._slots.release()
                    break
                if fence is not None and loop.time() - fenced >= self.limits.fence_every:
                    if not await fence():
                        self._slots.release()
                        raise LeaseLost("the outbox lease was lost: this process stops sending")
                    fenced = loop.time()
                self._start(entry, loop.time())
        finally:
            watcher.cancel()
            if reader is not None:
                # Let a read in progress finish (milliseconds) rather than cancel it: a
                # query cancelled mid-way can leave its connection in a transaction
                # (on SQLite, holding the write lock: every BEGIN is IMMEDIATE) while
                # the results below are committed and the database is closed.
                with contextlib.suppress(Exception):
                    await reader
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            marks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await marks
            await self._log_progress(logged, final=True)

    def _forget(self) -> None:
        self._known.clear()
        self._ready.clear()
        self._waiting.clear()
        self._finished.clear()
        self._wake_requested = True

    def _should_read(self, now: float, next_read: float, last_read: float) -> bool:
        if now >= next_read:
            return True
        if self._wake_requested:
            # Wakes that come close together (an update committed every few
            # milliseconds) share one read rather than each paying for their own.
            return now - last_read >= self.limits.read_gap
        # A chat finished: its next message may be waiting; read soon, but not per send.
        starving = len(self._known) < self.limits.heads // 2
        return self._dirty and starving and now - last_read >= 0.05

    def _read_result(self, reader: asyncio.Task[int]) -> int | None:
        try:
            return reader.result()
        except Exception:
            log.exception("could not read the outbox; trying again")
            return None

    async def _relay(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._signal.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._signal.wait(), seconds)
        self._signal.clear()

    async def _read(self) -> int:
        """Take in the head message of chats not yet held; returns how many it found."""
        self._finished.clear()
        room = self.limits.heads - len(self._known)
        if room <= 0:
            return len(self._known)  # full: a read could only bring chats we hold
        async with self.db.reader() as uow:
            heads = await ob.chat_heads(
                uow.session, self.channels.keys(), room, skip=list(self._known)
            )
        wall, mono = self.clock(), asyncio.get_running_loop().time()
        room = self.limits.heads - len(self._known)
        for head in heads:
            if room <= 0:
                break
            if head.key in self._known or head.id in self._finished:
                continue
            entry = _Entry(head, head.attempts, head.unknowns, unknown_at=mono)
            self._known[head.key] = entry
            ready = self._chats.ready_at(head.key)
            if head.not_before is not None:
                ready = max(ready, mono + (head.not_before - wall).total_seconds())
            self._schedule(entry, ready)
            room -= 1
        return len(heads)

    def _schedule(self, entry: _Entry, ready_at: float) -> None:
        heapq.heappush(self._waiting, (ready_at, entry.head.id, entry.head.key))

    def _next_ready(self, now: float) -> _Entry | None:
        while self._waiting and self._waiting[0][0] <= now:
            _, message_id, key = heapq.heappop(self._waiting)
            heapq.heappush(self._ready, (message_id, key))
        while self._ready:
            message_id, key = heapq.heappop(self._ready)
            entry = self._known.get(key)
            if entry is None or entry.head.id != message_id or entry.in_flight:
                continue  # stale heap item
            chat_ready = self._chats.ready_at(key)
            if chat_ready > now:  # paused by a 429 since it was scheduled
                self._schedule(entry, chat_ready)
                continue
            return entry
        return None

    def _start(self, entry: _Entry, now: float) -> None:
        entry.in_flight = True
        entry.stamp = self._globals[entry.head.channel].take(now)
        self._chats.take(entry.head.key, now)
        task = asyncio.create_task(self._send(entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.stats.max_in_flight = max(self.stats.max_in_flight, len(self._tasks))

    # -- one message ------------------------------------------------------------------

    async def _send(self, entry: _Entry) -> None:
        head = entry.head
        try:
            if await self._attempt(entry):
                self._done(head)
                # A moved row still needs its file; a channel that shows files by path
                # (the console) leaves them to the export sweep.
                if not entry.moved and self.channels[head.channel].capabilities.uploads_files:
                    await self._discard(head)
        except Exception:
            # The result could not be stored: forget the message; the next read of the
            # outbox finds it queued again (this is where a duplicate can come from).
            log.exception("outbox message %s: could not record the result", head.id)
            self._known.pop(head.key, None)
        finally:
            self._slots.release()
            self._dirty = True
            self._signal.set()

    def _done(self, head: ob.Head) -> None:
        self._known.pop(head.key, None)
        self._finished.add(head.id)

    async def _discard(self, head: ob.Head) -> None:
        # The message is recorded as sent (or as finally failed): it will not be sent
        # again, so a document that is the only copy of personal data can go.
        try:
            await discard_sent(head.body)
        except OSError:
            log.exception("outbox message %s: could not delete its document", head.id)

    async def _attempt(self, entry: _Entry) -> bool:
        """Send once and record the result; False when the message stays in memory."""
        head = entry.head
        loop = asyncio.get_running_loop()
        channel = self.channels[head.channel]
        if entry.unknowns and not self._answers.since(head.channel, entry.unknown_at):
            # Its one retry is spent only once the server is seen answering.
            try:
                await self._answers.probe(head.channel, channel)
            except Exception as exc:
                return await self._transient(entry, Transient(f"server not answering: {exc}"))
        try:
            body = body_of_row(head.body)
            if body.edit_message_id is not None and not channel.capabilities.edits_buttons:
                await self._marks.sent(head.id, "")  # the channel keeps its buttons as sent
                return True
            if self.render_body is not None:
                body = await self.render_body(body)
            if entry.stamp is not None:
                Pacer.started(entry.stamp, loop.time())
            remote_id = await channel.send(
                fit(to_outgoing(head.chat_id, body), channel.capabilities)
            )
        except RetryAfter as exc:
            self._answers.answered(head.channel)
            # Telegram's 429 may be about the chat or about the bot as a whole.
            until = loop.time() + exc.seconds
            self._chats.pause(head.key, until)
            self._globals[head.channel].pause(until)
            self.stats.rate_limited += 1
            log.warning("429 on chat %s: pausing %ss", head.chat_id, exc.seconds)
            self._retry_later(entry, until)
            return False
        except Forbidden as exc:
            self._answers.answered(head.channel)
            why = str(exc) or "forbidden"
            await self._marks.write(lambda s, now: ob.mark_blocked(s, head, why, now))
            self.stats.failed += 1
            self.stats.blocked += 1
            return True
        except Rejected as exc:
            self._answers.answered(head.channel)
            why = str(exc) or "rejected"
            attempts = entry.attempts + 1
            await self._marks.write(lambda s, now: ob.mark_failed(s, head.id, why, now, attempts))
            self.stats.failed += 1
            return True
        except Exception as exc:  # Transient, or an adapter error we did not foresee
            return await self._transient(entry, exc)
        self._answers.answered(head.channel)
        await self._marks.sent(head.id, str(remote_id))
        self.stats.sent += 1
        if self.on_sent is not None:
            try:
                await self.on_sent(head)
            except Exception:  # the message is sent: what follows must not undo that
                log.exception("outbox message %s: after-send step failed", head.id)
        return True

    async def _transient(self, entry: _Entry, exc: Exception) -> bool:
        head = entry.head
        attempts = entry.attempts + 1
        reason = f"{type(exc).__name__}: {exc}"
        unknowns = entry.unknowns + isinstance(exc, Unconfirmed)
        if unknowns >= UNKNOWN_AFTER:
            reason = f"answer lost {unknowns} times, maybe delivered; not sent again: {reason}"
            await self._marks.write(
                lambda s, now: obr.mark_unknown(s, head.id, reason, now, attempts)
            )
            self.stats.unknown += 1
            return True
        now = self.clock()
        left = (deadline_of(head, self.limits.retry_for) - now).total_seconds()
        if left <= 0:
            reason = f"gave up after {attempts} attempts (deadline passed): {reason}"
            await self._marks.write(
                lambda s, now: ob.mark_failed(s, head.id, reason, now, attempts)
            )
            self.stats.failed += 1
            return True
        delay = min(self.limits.backoff(attempts), left)
        not_before = now + timedelta(seconds=delay)
        self.stats.retried += 1
        # (Not after a lost answer: the moved copy could be sent twice more.)
        if obr.has_attachment(head.body) and not unknowns:
            return await self._move_attachment(entry, attempts, reason, not_before)
        await self._marks.write(
            lambda s, now: ob.mark_retry(s, head.id, attempts, reason, not_before, unknowns)
        )
        entry.attempts = attempts
        if unknowns > entry.unknowns:
            entry.unknowns, entry.unknown_at = unknowns, asyncio.get_running_loop().time()
        self._retry_later(entry, asyncio.get_running_loop().time() + delay)
        return False

    async def _move_attachment(
        self, entry: _Entry, attempts: int, reason: str, not_before: datetime
    ) -> bool:
        """A failed upload must not hold the chat: its text goes now, the file after the
        chat's queued messages."""
        head = entry.head
        kept: list[dict[str, Any] | None] = []

        async def move(session: AsyncSession, now: datetime) -> None:
            kept.append(
                await obr.move_attachment_behind(
                    session, head, attempts=attempts, error=reason, not_before=not_before
                )
            )

        await self._marks.write(move)
        self._dirty = True  # the moved row is read back as the chat's last message
        if not kept or kept[0] is None:
            entry.moved = True
            return True  # the whole message moved: the chat's next one may go
        entry.head = replace(head, body=kept[0])
        self._retry_later(entry, asyncio.get_running_loop().time())
        return False

    def _retry_later(self, entry: _Entry, at: float) -> None:
        entry.in_flight = False
        self._schedule(entry, at)

    # -- progress ---------------------------------------------------------------------

    async def _log_progress(
        self, last: tuple[int, int, float], *, final: bool = False
    ) -> tuple[int, int, float]:
        now = asyncio.get_running_loop().time()
        sent, failed = self.stats.sent, self.stats.failed
        if (sent, failed) == last[:2] and not final:
            return last
        try:
            async with self.db.uow() as uow:
                left: int | str = await ob.queued_count(uow.session)
        except Exception:  # progress lines must not stop sending
            left = "?"
        rate = (sent - last[0]) / max(now - last[2], 1e-9)
        log.info(
            "outbox: sent=%d failed=%d retried=%d 429s=%d queued_left=%s rate=%.1f/s",
            sent,
            failed,
            self.stats.retried,
            self.stats.rate_limited,
            left,
            rate,
        )
        return (sent, failed, now)
