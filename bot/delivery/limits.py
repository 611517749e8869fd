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
    # Overall: at most ``global_rate`` sends in any 1 s + margin of departures. The server
    # counts arrivals, and a busy sender bunches them by up to ~100 ms: three processes on
    # two loaded cores put 66 sends (margin 0.02) and 65 (0.05) in one second of the fake
    # server's arrivals at a limit of 60; 0.1 kept to it in three runs
    # (tests/reliability/test_three_processes.py). It costs rate: 27.3 msg/s at 30/s
    # (benchmarks/outbox.py, loaded machine; 0.02 gave 26.5 with two 429s there).
    margin: float = 0.1
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
    """One send's place in a pacer's window: when it left (or was planned to)."""

    __slots__ = ("at", "settled")

    def __init__(self, at: float) -> None:
        self.at = at
        # It will not move any more: it left (``Pacer.started``), or its attempt ended
        # without sending. Only a settled stamp may be dropped from the window.
        self.settled = False


class Pacer:
    """Paces sends to ``rate`` a second: evenly spaced ``1 / (rate * safety)`` apart,
    and never more than ``rate`` in any window of one second (plus ``margin``).
    Lateness up to ``tolerance`` seconds is caught up, so the average rate holds even
    when the event loop wakes late; ``pause`` holds everything back.

    The server counts arrivals, not our departures: a message that spends longer in
    transit than the one sent a second after it shifts the server's window. Spacing
    under the limit (``safety``) absorbs that jitter; the window check stops bursts.
    """

    def __init__(
        self, rate: float, *, margin: float = 0.02, tolerance: float = 0.1, safety: float = 1.0
    ) -> None:
        self.interval = 1.0 / (rate * safety)
        self.tolerance = tolerance
        self.window = 1.0 + margin
        # The latest sends, at most ``rate``: a full window whose oldest is under a
        # second old means wait. Stamps past the window are dropped as sends go (only
        # the ones that can no longer move), or a high rate (benchmarks set a million)
        # would keep that many stamps for good.
        self._starts: deque[Stamp] = deque(maxlen=max(1, math.floor(rate)))
        self._tat = 0.0  # theoretical time of the next send (GCRA)
        self._paused_until = 0.0

    def __len__(self) -> int:
        """How many sends' stamps are held (at most ``rate``, and about a second's)."""
        return len(self._starts)

    def delay(self, now: float) -> float:
        wait = max(self._tat - self.tolerance - now, self._paused_until - now)
        if len(self._starts) == self._starts.maxlen:
            wait = max(wait, self._starts[0].at + self.window - now)
        return max(0.0, wait)

    def take(self, now: float) -> Stamp:
        """Reserve a send at ``now``; the returned stamp is moved by ``started``."""
        self._tat = max(now, self._tat) + self.interval
        starts = self._starts
        # Out of the window and settled: it can never make a later send wait.
        while starts and starts[0].settled and starts[0].at + self.window <= now:
            starts.popleft()
        stamp = Stamp(now)
        starts.append(stamp)
        return stamp

    @staticmethod
    def started(stamp: Stamp, now: float) -> None:
        """The send really left at ``now``: count it there in the one-second window.

        A send held up in our event loop reaches the server later than planned, next
        to later ones; counting it where it really left keeps the window true. Stamps
        only move later, so the oldest one checked is never earlier than the real
        oldest: the check stays on the safe side.
        """
        stamp.at = max(stamp.at, now)
        stamp.settled = True

    def pause(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)


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
