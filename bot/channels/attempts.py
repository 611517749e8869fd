"""How a channel tries one update: held through an outage, kept as dead when it fails by itself.

An update that fails because the database or the disk is failing
(``storage.failures.is_infrastructure``) will succeed later, unchanged: it is held
and tried again with backoff (polling: it stays in hand, so the offset stays below
it), or refused with ``Unavailable`` (a webhook answers 503; Telegram sends it
again). An update that fails by itself (another error, or an outage error while
other updates succeed) is tried ``ATTEMPTS`` times, then kept as a dead update
(``dead_letters``) and counted as handled: trying it again would fail again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from storage.failures import is_infrastructure

log = logging.getLogger("postsale.channels")

# Keeps an update given up on: (channel, update id or None, its JSON, the error).
DeadLetters = Callable[[str, str | None, Mapping[str, Any], str], Awaitable[None]]
ATTEMPTS = 3  # tries of an update failing by itself before it is kept as dead
OUTAGE_BACKOFF_MAX = 30.0  # seconds between tries of an update held by an outage


class Unavailable(Exception):
    """The database is failing: a webhook update is refused (503), Telegram sends it again."""


class Attempts:
    """Runs updates' handling for one channel; ``stop`` ends the holding (nothing confirmed)."""

    def __init__(self, channel: str, stop: asyncio.Event, retry_delay: float) -> None:
        self.channel, self.stop, self.retry_delay = channel, stop, retry_delay
        self.dead_letters: DeadLetters | None = None  # set by the runner
        self._successes = 0  # updates handled: tells a poison update from an outage

    async def run(
        self,
        update_id: int | str,
        process: Callable[[], Awaitable[None]],
        dump: Callable[[], Mapping[str, Any]],
        *,
        hold: bool,
    ) -> None:
        """``process()`` until it succeeds, is held off (raises) or is kept as dead."""
        failures = outages = 0
        mark = self._successes
        while True:
            try:
                await process()
            except Exception as exc:
                # An outage error while other updates succeed (since this one last
                # failed) is this update's own failure.
                others_fine, mark = self._successes > mark, self._successes
                if is_infrastructure(exc) and not others_fine:
                    outages += 1
                    await self._wait_out(update_id, exc, outages, hold)
                    continue
                failures += 1
                if failures >= ATTEMPTS:
                    log.exception("update %s failed %d times: dead", update_id, ATTEMPTS)
                    await self.bury(str(update_id), dump(), exc, hold=hold)
                    return
                log.warning("update %s failed; trying again", update_id, exc_info=True)
                await asyncio.sleep(self.retry_delay * failures)
            else:
                self._successes += 1
                return

    async def _wait_out(
        self, update_id: int | str, exc: Exception, outages: int, hold: bool
    ) -> None:
        """Back off before the next try of an update an outage failed; raise when not holding."""
        if not hold:
            raise Unavailable(f"update {update_id}: {exc}") from exc
        if self.stop.is_set():
            raise exc  # not confirmed: the next run takes it again
        delay = min(OUTAGE_BACKOFF_MAX, self.retry_delay * 2 ** min(outages - 1, 8))
        log.warning(
            "update %s held: the database is failing (%s); again in %.1fs", update_id, exc, delay
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), delay)

    async def bury(
        self, update_id: str | None, raw: Mapping[str, Any], exc: Exception, *, hold: bool
    ) -> None:
        """Keep an update given up on; an outage while keeping it is waited out too."""
        error = "".join(traceback.format_exception_only(exc)).strip()
        outages = 0
        while self.dead_letters is not None:
            try:
                await self.dead_letters(self.channel, update_id, raw, error)
                return
            except Exception as failed:
                if not is_infrastructure(failed):
                    log.exception("could not keep dead update %s: %.2000r", update_id, raw)
                    return
                outages += 1
                await self._wait_out(update_id or "?", failed, outages, hold)
        log.error("dead update %s (nowhere to keep it): %s: %.2000r", update_id, error, raw)
