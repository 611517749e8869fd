"""Sending limits as pacers: overall, per chat, per group, and 429 pauses.

Each channel declares its own limits (``ChannelLimits``) and which of its chats are
groups; nothing here knows a channel's chat ids.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from bot.channels.port import Channel, ChannelLimits
from bot.settings import Settings


@dataclass(frozen=True)
class SendLimits:
    """How fast and how persistently the outbox sender may send."""

    global_rate: float = 30.0  # messages a second, all chats together
    per_chat_rate: float = 1.0  # messages a second to one private chat
    group_per_minute: float | None = 20.0  # messages a minute to one group
    # Pace a little under the limits: arrival times jitter, and a 429 costs seconds.
    safety: float = 0.97  # intervals are 1 / (rate * safety), per chat and overall
    # Overall: a send holds its place in the window until 1 s + margin after its answer
    # (``Pacer``), which bounds the server's arrivals whatever the jitter. Counting from
    # departures instead, three processes on two loaded cores once put 66 arrivals in one
    # second at a limit of 60 (margin 0.02), and 205 at 200 with 0.1.
    margin: float = 0.0
    catch_up: float = 0.02  # overall: seconds of lateness sent at once to keep the rate
    concurrency: int = 16  # sends in flight at once (the crash-duplicate bound)
    # Network / 5xx errors are retried for this long after a message was queued (unless
    # its row has a deadline of its own), the waits doubling from ``backoff_base`` up
    # to ``backoff_max`` seconds.
    retry_for: float = 6 * 3600.0
    backoff_base: float = 1.0
    backoff_max: float = 300.0
    fence_every: float = 0.25  # seconds a lease check is trusted before sending on
    poll_interval: float = 1.0  # how often the outbox is read when nothing wakes us
    read_gap: float = 0.02  # at least this long between two reads when woken
    heads: int = 500  # chats held in memory at once

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: float) -> SendLimits:
        values: dict[str, float] = {
            "global_rate": settings.send_rate_global,
            "per_chat_rate": settings.send_rate_per_chat,
            "retry_for": settings.outbox_retry_for.total_seconds(),
            "backoff_max": settings.outbox_backoff_max.total_seconds(),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def within(self, declared: ChannelLimits) -> SendLimits:
        """These limits with a channel's own rates (what its server allows)."""
        return replace(
            self,
            global_rate=declared.global_rate,
            per_chat_rate=declared.per_chat_rate,
            group_per_minute=declared.group_per_minute,
        )

    def chat_interval(self, group: bool) -> float:
        """Seconds between two messages to one chat (``group``: the channel says it is one)."""
        interval = 1.0 / (self.per_chat_rate * self.safety)
        if group and self.group_per_minute:
            interval = max(interval, 60.0 / (self.group_per_minute * self.safety))
        return interval

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter for the ``attempt``-th failure (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_base * float(2 ** (attempt - 1)))
        jitter: float = random.uniform(0.5, 1.0)  # noqa: S311 - not for security
        return ceiling * jitter


class Stamp:
    """One send's hold on its pacer's window, from ``Pacer.take`` until ``close``."""

    __slots__ = ("_pacer", "_open", "left")

    def __init__(self, pacer: Pacer) -> None:
        self._pacer = pacer
        self._open = True
        self.left = False  # the request was handed to the channel: it may arrive

    def close(self, now: float) -> None:
        """The send is over at ``now``: answered, failed, or never left. Once only."""
        if self._open:
            self._open = False
            self._pacer._closed(self.left, now)


class Pacer:
    """Paces sends to ``rate`` a second: evenly spaced ``1 / (rate * safety)`` apart,
    and never more than ``rate`` arrivals at the server in any one second. Lateness up
    to ``tolerance`` seconds is caught up, so the average rate holds even when the
    event loop wakes late; ``pause`` holds everything back.

    The server counts arrivals, which we do not see: a request arrives somewhere
    between its ``take`` and its answer. So a send holds a place in the window from
    its ``take`` until one second (plus ``margin``) after its answer, and a send may
    start only while fewer than ``rate`` places are held. That bounds arrivals
    whatever the jitter: of ``rate + 1`` arrivals within one second, the last to
    start would have found the ``rate`` others all holding their places (each had
    started, and was answered after the window's first arrival, so less than a
    second before that start). The cost is the round trip: at most ``rate`` sends
    per second plus one round trip.
    """

    def __init__(
        self, rate: float, *, margin: float = 0.0, tolerance: float = 0.1, safety: float = 1.0
    ) -> None:
        self.interval = 1.0 / (rate * safety)
        self.tolerance = tolerance
        self.window = 1.0 + margin
        self.limit = max(1, math.floor(rate))
        self._in_flight = 0
        # When the last second's sends were answered, oldest first (the loop's clock
        # only moves on); past the window they are dropped, so at most ``limit`` stay.
        self._answered: deque[float] = deque(maxlen=self.limit)
        self._tat = 0.0  # theoretical time of the next send (GCRA)
        self._paused_until = 0.0

    def __len__(self) -> int:
        """How many places in the window are held (at most ``rate``)."""
        return self._in_flight + len(self._answered)

    def delay(self, now: float) -> float:
        wait = max(self._tat - self.tolerance - now, self._paused_until - now)
        self._expire(now)
        if len(self) >= self.limit:
            # Every place held: the oldest answer leaves the window first; with none
            # answered yet, look again after one interval.
            free_at = self._answered[0] + self.window if self._answered else now + self.interval
            wait = max(wait, free_at - now)
        return max(0.0, wait)

    def take(self, now: float) -> Stamp:
        """Reserve a send at ``now``; the stamp holds its place until closed."""
        self._tat = max(now, self._tat) + self.interval
        self._expire(now)
        self._in_flight += 1
        return Stamp(self)

    def pause(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)

    def _closed(self, left: bool, now: float) -> None:
        self._in_flight -= 1
        if left:
            self._answered.append(now)

    def _expire(self, now: float) -> None:
        answered = self._answered
        while answered and answered[0] + self.window <= now:
            answered.popleft()


class ChatPacers:
    """When each chat may get its next message; chats idle long enough are forgotten."""

    def __init__(self, interval: Callable[[tuple[str, str]], float]) -> None:
        self.interval = interval  # seconds between two messages to a (channel, chat)
        self._next: dict[tuple[str, str], float] = {}

    def ready_at(self, key: tuple[str, str]) -> float:
        return self._next.get(key, 0.0)

    def take(self, key: tuple[str, str], now: float) -> None:
        start = max(now, self._next.get(key, 0.0))
        self._next[key] = start + self.interval(key)

    def pause(self, key: tuple[str, str], until: float) -> None:
        self._next[key] = max(self._next.get(key, 0.0), until)

    def forget_idle(self, now: float) -> None:
        """Drop chats whose next slot has passed: memory stays bounded by recent chats."""
        for key in [k for k, t in self._next.items() if t <= now]:
            del self._next[key]

    def __len__(self) -> int:
        return len(self._next)


class Pacing:
    """Every channel's pacers: one for all its chats, and one per chat (groups, as the
    channel tells them, at its group rate)."""

    def __init__(
        self, channels: Mapping[str, Channel], limits: SendLimits, *, own_rates: bool
    ) -> None:
        self.channels = channels
        # Each channel's rates: its own, unless the caller set them for all.
        self.rates = {
            name: limits.within(channel.limits) if own_rates else limits
            for name, channel in channels.items()
        }
        self.overall = {
            name: Pacer(
                rates.global_rate,
                margin=rates.margin,
                tolerance=rates.catch_up,
                safety=rates.safety,
            )
            for name, rates in self.rates.items()
        }
        self.chats = ChatPacers(self._chat_interval)

    def _chat_interval(self, key: tuple[str, str]) -> float:
        channel, chat = key
        return self.rates[channel].chat_interval(self.channels[channel].is_group(chat))

    def pause(self, key: tuple[str, str], until: float) -> None:
        """A 429: the chat and its whole channel wait until ``until``."""
        self.chats.pause(key, until)
        self.overall[key[0]].pause(until)
