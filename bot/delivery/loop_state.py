"""What the outbox sender's loop keeps between turns: its clock marks and its read."""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass

log = logging.getLogger("postsale.outbox")


@dataclass
class LoopState:
    """The sending loop's clock marks and its background read of the outbox."""

    next_log: float
    logged: tuple[int, int, float]  # (sent, failed, loop time) at the last progress line
    next_read: float = 0.0
    last_read: float = 0.0
    # The outbox is read in the background, so sending never stalls on a query.
    reader: asyncio.Task[int] | None = None
    read_when_idle: bool = False
    fenced: float = -math.inf

    def take_read(self) -> int | None:
        """The finished read's count of messages found (None when it failed)."""
        reader, self.reader = self.reader, None
        try:
            return reader.result() if reader is not None else None
        except Exception:
            log.exception("could not read the outbox; trying again")
            return None


DIRTY_GAP = 0.05  # seconds: after a chat's message is done, its next is read this soon
