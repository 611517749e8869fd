"""What the outbox sender's loop keeps between turns: its clock marks and its read."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass


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


DIRTY_GAP = 0.05  # seconds: after a chat's message is done, its next is read this soon
