"""The outbox sender's progress lines: what was sent and failed, what is left, how fast."""

from __future__ import annotations

import asyncio
import logging

from bot.app import Database
from bot.delivery.attempt import SenderStats
from storage import outbox_state as ob

log = logging.getLogger("postsale.outbox")


async def log_progress(
    db: Database, stats: SenderStats, last: tuple[int, int, float], *, final: bool = False
) -> tuple[int, int, float]:
    """A progress line when something changed since ``last`` (sent, failed, loop time)."""
    now = asyncio.get_running_loop().time()
    sent, failed = stats.sent, stats.failed
    if (sent, failed) == last[:2] and not final:
        return last
    try:
        async with db.uow() as uow:
            left: int | str = await ob.queued_count(uow.session)
    except Exception:  # progress lines must not stop sending
        left = "?"
    rate = (sent - last[0]) / max(now - last[2], 1e-9)
    log.info(
        "outbox: sent=%d failed=%d retried=%d 429s=%d queued_left=%s rate=%.1f/s",
        sent,
        failed,
        stats.retried,
        stats.rate_limited,
        left,
        rate,
    )
    return (sent, failed, now)
