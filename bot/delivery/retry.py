"""How long the outbox sender keeps trying, and when a send of unknown outcome may go again.

* A message is retried after network and server errors until its deadline: its row's
  own (an invitation's or a reminder's survey expires), else ``OUTBOX_RETRY_FOR`` after
  it was queued. The waits double up to ``OUTBOX_BACKOFF_MAX``, with jitter.
* A send whose answer was lost (``Unconfirmed``) may have been delivered: it is tried
  once more, and after a second lost answer kept as "unknown", never sent again. That
  one retry goes only right after a ``getMe`` probe is answered, so an outage (or a
  second one, after the server had come back) does not spend it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.channels.port import Channel
from storage.outbox_state import Head

UNKNOWN_AFTER = 2  # lost answers after which a message is never sent again


def deadline_of(head: Head, retry_for: float) -> datetime:
    """Until when ``head`` may still be retried."""
    return head.deadline or head.created_at + timedelta(seconds=retry_for)


class Answers:
    """One shared probe per channel: whether its server answers now."""

    def __init__(self) -> None:
        self._probes: dict[str, asyncio.Task[None]] = {}

    async def probe(self, name: str, channel: Channel) -> None:
        """Ask whether the server answers (once for all who ask at the same time);
        raises what the probe raised. Channels without a probe count as answering."""
        probe = getattr(channel, "probe", None)
        if probe is None:
            return
        task = self._probes.get(name)
        if task is None or task.done():
            task = asyncio.ensure_future(probe())
            # Retrieved here too: a probe all its waiters stopped waiting for.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._probes[name] = task
        await asyncio.shield(task)
