"""One outbox message's send and what its result means: sent, failed, blocked, unknown,
retried later, or its attachment moved behind the chat's other messages.

``Delivery.attempt`` sends through the row's channel and records the result; it tells
the sending loop (``bot.delivery.sender``) what to do next with the message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.port import (
    Channel,
    ChatRetryAfter,
    Forbidden,
    Halted,
    Outgoing,
    Rejected,
    RetryAfter,
    Transient,
    Unconfirmed,
)
from bot.delivery.exports import discard_sent
from bot.delivery.limits import SendLimits, Stamp
from bot.delivery.marks import Marks
from bot.delivery.outgoing import body_of_row, fit, to_outgoing
from bot.delivery.retry import UNKNOWN_AFTER, Answers, deadline_of
from bot.metrics import Metrics
from storage import outbox_retry as obr
from storage import outbox_state as ob
from storage.outbox_body import OutboxBody

log = logging.getLogger("postsale.outbox")

BodyRenderer = Callable[[OutboxBody], Awaitable[OutboxBody]]
OnSent = Callable[[ob.Head], Awaitable[None]]
# A channel may not send for now: (channel, reason, when sending is tried again).
OnHalted = Callable[[str, str, datetime], Awaitable[None]]


@dataclass
class SenderStats:
    """Counts since start, for progress lines, tests and benchmarks."""

    sent: int = 0
    failed: int = 0
    unknown: int = 0  # kept as "unknown": delivered or not, never sent again
    blocked: int = 0
    retried: int = 0
    rate_limited: int = 0  # 429s received
    halted: int = 0  # sends a channel refused for a while (``Halted``)
    max_in_flight: int = 0


@dataclass(eq=False)
class Entry:
    """A chat's head message as the sender holds it between attempts."""

    head: ob.Head
    attempts: int
    unknowns: int = 0
    in_flight: bool = False
    stamp: Stamp | None = None  # this send's place in the channel pacer's window
    moved: bool = False  # the whole message went to a new row behind its chat's others


@dataclass(frozen=True)
class Outcome:
    """What the loop does with the message after an attempt."""

    done: bool  # its result is recorded for good: the chat's next message may go
    retry_at: float = 0.0  # (not done) the loop time it may be tried again
    pause_until: float | None = None  # a 429: its chat and channel wait until then


DONE = Outcome(done=True)


class Delivery:
    """Sends one message at a time through its channel and records what happened."""

    def __init__(
        self,
        channels: Mapping[str, Channel],
        limits: SendLimits,
        marks: Marks,
        clock: Callable[[], datetime],
        *,
        render_body: BodyRenderer | None = None,
        on_sent: OnSent | None = None,
    ) -> None:
        self.channels, self.limits, self.marks, self.clock = channels, limits, marks, clock
        self.render_body = render_body
        # Called once a message is recorded as sent, with its row as queued (the seam
        # for work that must follow a delivery, such as removing an export file).
        self.on_sent = on_sent
        self.on_halted: OnHalted | None = None  # operators are told (the bootstrap's)
        self._halted_until: dict[str, float] = {}
        self.telling: set[asyncio.Task[None]] = set()  # operators being told of a halt
        self.stats = SenderStats()
        self.metrics = Metrics()  # the bootstrap gives the app's
        self.answers = Answers()

    async def attempt(self, entry: Entry) -> Outcome:
        """Send once and record the result."""
        head = entry.head
        channel = self.channels[head.channel]
        if entry.unknowns:
            # Its one retry is spent only on a server that answers now: an answer seen
            # earlier says nothing of an outage that began since.
            try:
                await self.answers.probe(head.channel, channel)
            except Exception as exc:
                return await self._transient(entry, Transient(f"server not answering: {exc}"))
        try:
            message = await self._outgoing(head, channel)
            if message is None:
                await self.marks.sent(head.id, "")  # nothing the channel can do: done
                return DONE
            remote_id = await self._send_paced(entry, channel, message)
        except RetryAfter as exc:
            return self._rate_limited(head, exc)
        except Halted as exc:
            return self._halted(head, exc)
        except (Forbidden, Rejected) as exc:
            return await self._refused(entry, exc)
        except Exception as exc:  # Transient, or an adapter error we did not foresee
            return await self._transient(entry, exc)
        await self._record_sent(head, str(remote_id))
        return DONE

    @staticmethod
    async def _send_paced(entry: Entry, channel: Channel, message: Outgoing) -> str:
        """``channel.send``, its place in the pacer's window held until it is answered."""
        stamp = entry.stamp
        if stamp is None:
            return await channel.send(message)
        stamp.left = True
        try:
            return await channel.send(message)
        finally:
            stamp.close(asyncio.get_running_loop().time())

    async def finish(self, entry: Entry) -> None:
        """The message is recorded for good: it will not be sent again, so a document
        that is the only copy of personal data can go. A moved row still needs its file;
        a channel that shows files by path (the console) leaves them to the export sweep."""
        head = entry.head
        if entry.moved or not self.channels[head.channel].capabilities.uploads_files:
            return
        try:
            await discard_sent(head.body)
        except OSError:
            log.exception("outbox message %s: could not delete its document", head.id)

    async def _outgoing(self, head: ob.Head, channel: Channel) -> Outgoing | None:
        """The row as the channel can show it; None for an edit the channel cannot make."""
        body = body_of_row(head.body)
        if body.edit_message_id is not None and not channel.capabilities.edits_buttons:
            return None
        if self.render_body is not None:
            body = await self.render_body(body)
        message = to_outgoing(head.chat_id, body, purpose=head.purpose, row_id=head.id)
        return fit(message, channel.capabilities)

    async def _refused(self, entry: Entry, exc: Forbidden | Rejected) -> Outcome:
        """Blocked (the chat is unreachable) or refused for good: failed, not tried again."""
        head = entry.head
        self.stats.failed += 1
        if isinstance(exc, Forbidden):
            why = str(exc) or "forbidden"
            await self.marks.write(lambda s, now: ob.mark_blocked(s, head, why, now))
            self.stats.blocked += 1
            self.metrics.outbox_failed.labels(head.channel, "blocked").inc()
            return DONE
        self.metrics.outbox_failed.labels(head.channel, "rejected").inc()
        reason = str(exc) or "rejected"
        attempts = entry.attempts + 1
        await self.marks.write(lambda s, now: ob.mark_failed(s, head.id, reason, now, attempts))
        return DONE

    def _rate_limited(self, head: ob.Head, exc: RetryAfter) -> Outcome:
        self.metrics.rate_limited.labels(head.channel).inc()
        if isinstance(exc, ChatRetryAfter):
            # This chat only: its next message waits behind this one anyway.
            self.stats.rate_limited += 1
            return Outcome(done=False, retry_at=asyncio.get_running_loop().time() + exc.seconds)
        # A 429 may be about the chat or about the bot as a whole.
        until = asyncio.get_running_loop().time() + exc.seconds
        self.stats.rate_limited += 1
        log.warning("429 on chat %s: pausing %ss", head.chat_id, exc.seconds)
        return Outcome(done=False, retry_at=until, pause_until=until)

    def _halted(self, head: ob.Head, exc: Halted) -> Outcome:
        """The channel pauses (at once: nothing is awaited before the sender applies it);
        the message stays queued; operators hear of it once a halt, in the background."""
        now = asyncio.get_running_loop().time()
        until = now + exc.seconds
        self.stats.halted += 1
        log.error("%s may not send (%s): pausing %.0fs", head.channel, exc, exc.seconds)
        if self.on_halted is not None and self._halted_until.get(head.channel, 0.0) <= now:
            resume = self.clock() + timedelta(seconds=exc.seconds)
            task = asyncio.create_task(self._tell(self.on_halted, head.channel, str(exc), resume))
            self.telling.add(task)
            task.add_done_callback(self.telling.discard)
        self._halted_until[head.channel] = until
        return Outcome(done=False, retry_at=until, pause_until=until)

    async def _tell(self, tell: OnHalted, channel: str, reason: str, resume: datetime) -> None:
        try:
            await tell(channel, reason, resume)
        except Exception:  # telling is best effort; the pause holds either way
            log.exception("could not tell the operators that %s is paused", channel)

    async def _record_sent(self, head: ob.Head, remote_id: str) -> None:
        await self.marks.sent(head.id, remote_id)
        self.stats.sent += 1
        self.metrics.outbox_sent.labels(head.channel).inc()
        if self.on_sent is not None:
            try:
                await self.on_sent(head)
            except Exception:  # the message is sent: what follows must not undo that
                log.exception("outbox message %s: after-send step failed", head.id)

    async def _transient(self, entry: Entry, exc: Exception) -> Outcome:
        head = entry.head
        attempts = entry.attempts + 1
        reason = f"{type(exc).__name__}: {exc}"
        unknowns = entry.unknowns + isinstance(exc, Unconfirmed)
        if unknowns >= UNKNOWN_AFTER:
            reason = f"answer lost {unknowns} times, maybe delivered; not sent again: {reason}"
            await self.marks.write(
                lambda s, now: obr.mark_unknown(s, head.id, reason, now, attempts)
            )
            self.stats.unknown += 1
            self.metrics.outbox_unknown.labels(head.channel).inc()
            return DONE
        now = self.clock()
        left = (deadline_of(head, self.limits.retry_for) - now).total_seconds()
        if left <= 0:
            reason = f"gave up after {attempts} attempts (deadline passed): {reason}"
            await self.marks.write(lambda s, now: ob.mark_failed(s, head.id, reason, now, attempts))
            self.stats.failed += 1
            self.metrics.outbox_failed.labels(head.channel, "expired").inc()
            return DONE
        delay = min(self.limits.backoff(attempts), left)
        not_before = now + timedelta(seconds=delay)
        self.stats.retried += 1
        self.metrics.outbox_retries.labels(head.channel).inc()
        # (Not after a lost answer: the moved copy could be sent twice more.)
        if obr.has_attachment(head.body) and not unknowns:
            return await self._move_attachment(entry, attempts, reason, not_before)
        await self.marks.write(
            lambda s, now: ob.mark_retry(s, head.id, attempts, reason, not_before, unknowns)
        )
        entry.attempts = attempts
        entry.unknowns = unknowns
        return Outcome(done=False, retry_at=asyncio.get_running_loop().time() + delay)

    async def _move_attachment(
        self, entry: Entry, attempts: int, reason: str, not_before: datetime
    ) -> Outcome:
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

        await self.marks.write(move)
        if not kept or kept[0] is None:
            entry.moved = True
            return DONE  # the whole message moved: the chat's next one may go
        entry.head = replace(head, body=kept[0])
        return Outcome(done=False, retry_at=asyncio.get_running_loop().time())


__all__ = ["BodyRenderer", "Delivery", "Entry", "OnSent", "Outcome", "SenderStats"]
