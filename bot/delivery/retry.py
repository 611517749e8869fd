"""How long the outbox sender keeps trying, and when a send of unknown outcome may go again.

* A message is retried after network and server errors until its deadline: its row's
  own (an invitation's or a reminder's survey expires), else ``OUTBOX_RETRY_FOR`` after
  it was queued. The waits double up to ``OUTBOX_BACKOFF_MAX``, with jitter.
* A send whose answer was lost (``Unconfirmed``) may have been delivered: it is tried
  once more, and after a second lost answer kept as "unknown", never sent again. That
  one retry waits until the server is seen answering (a send answered, or a ``getMe``
  probe), so an outage does not spend it.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta

from bot.channels.port import Channel
from storage.outbox_state import Head

UNKNOWN_AFTER = 2  # lost answers after which a message is never sent again


def deadline_of(head: Head, retry_for: float) -> datetime:
    """Until when ``head`` may still be retried."""
    return head.deadline or head.created_at + timedelta(seconds=retry_for)


class Answers:
    """When each channel's server last answered, and one shared probe per channel."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}
        self._probes: dict[str, asyncio.Task[None]] = {}

    def answered(self, channel: str) -> None:
        self._at[channel] = asyncio.get_running_loop().time()

    def since(self, channel: str, moment: float) -> bool:
        return self._at.get(channel, -math.inf) > moment

    async def probe(self, name: str, channel: Channel) -> None:
        """Ask whether the server answers (once for all who ask at the same time);
        raises what the probe raised. Channels without a probe count as answering."""
        probe = getattr(channel, "probe", None)
        if probe is None:
            self.answered(name)
            return
        task = self._probes.get(name)
        if task is None or task.done():
            task = asyncio.ensure_future(probe())
            # Retrieved here too: a probe all its waiters stopped waiting for.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._probes[name] = task
        await asyncio.shield(task)
        self.answered(name)
