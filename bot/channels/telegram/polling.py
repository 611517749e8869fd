"""Long polling that confirms only handled updates.

Telegram confirms every update with an id below the ``offset`` of the next
``getUpdates``. Both libraries' own pollers move the offset past an update as soon
as it is fetched, so an update in hand at a crash or a stop would be lost. Here the
offset is the lowest update id still being handled (or the highest handled + 1):

* updates are handed to ``dispatch`` (which queues them per chat) as they arrive, so
  chats are handled concurrently while the poller keeps fetching;
* a re-fetch returns the unconfirmed updates again; those already in hand are
  skipped by id (the in-memory duplicate check), at most ``limit`` ids are held;
* on stop, the fetch in progress is abandoned (it confirmed nothing new), the
  updates in hand are finished, and one last ``getUpdates`` confirms them.

A crash loses nothing: unconfirmed updates come again after the restart, and the
engine's handled-updates table turns the ones that were committed into no-ops.

An update whose handling failed (the channel gave up on it unhandled, e.g. stopping
during a database outage) keeps the offset below it and is taken in again by the
next fetch. An update that cannot be read is handed to ``on_unreadable`` and
passed, once: reading it again would fail again. A server that answers an empty
long poll at once (it ignores ``timeout``) is not asked again at once: the poller
waits ``idle_pause`` first (issue 14: ~450 calls a second without it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

log = logging.getLogger("postsale.channels")

Fetch = Callable[[int | None, float, int], Awaitable[Sequence[Any]]]
Dispatch = Callable[[Any], "asyncio.Future[None]"]
Unreadable = Callable[[Any, Exception], None]  # the fetched item (JSON or parsed)


class UpdatePump:
    """Fetches updates with ``fetch(offset, timeout, limit)`` and hands them to ``dispatch``.

    With ``parse``, ``fetch`` returns the updates' JSON objects and only those not
    taken in yet are parsed into the library's update objects: a re-fetch returns
    every update still in hand, and parsing them again was a tenth of the bot's time
    (py-spy on benchmarks/throughput.py, aiogram). A fetch may also mix JSON objects
    and parsed updates: only the JSON objects are parsed.
    """

    def __init__(
        self,
        fetch: Fetch,
        dispatch: Dispatch,
        *,
        timeout: float = 25.0,
        limit: int = 100,
        ahead: int | None = None,
        parse: Callable[[Any], Any] | None = None,
        on_unreadable: Unreadable | None = None,
        idle_pause: float = 1.0,
    ) -> None:
        self.fetch, self.dispatch, self.parse = fetch, dispatch, parse
        self.on_unreadable = on_unreadable
        self.timeout, self.limit = timeout, limit
        self.idle_pause = min(idle_pause, timeout) if timeout > 0 else idle_pause
        # Fetch again once fewer than ``ahead`` updates are in hand (the channel passes
        # its concurrency). A fetch returns the ones in hand again, and those handled
        # past the lowest (the offset cannot pass it), parsed for nothing: waiting for
        # half the window, 600 updates came with about 800 repeats; until one of 16
        # handlers is free, with about 200 (tests/unit/test_update_pump.py).
        self.ahead = max(1, min(limit // 2, ahead or limit // 2))
        self._in_hand: set[int] = set()
        self._failed: set[int] = set()  # given up unhandled: taken in again when fetched
        self._highest: int | None = None
        self._progress = asyncio.Event()
        self.fetched = 0  # updates taken in (tests and benchmarks read it)
        self.skipped = 0  # updates fetched again while in hand
        self.parsed = 0  # updates parsed (with ``parse``)

    @property
    def offset(self) -> int | None:
        """The offset that confirms exactly the updates handled so far."""
        if self._in_hand or self._failed:
            return min(self._in_hand | self._failed)
        return None if self._highest is None else self._highest + 1

    def taken(self, update_id: int) -> bool:
        """Whether ``update_id`` was taken in (it may still be in hand)."""
        return self._highest is not None and update_id <= self._highest

    def _take(self, item: Any, update_id: int) -> None:
        self._highest = update_id if self._highest is None else max(self._highest, update_id)
        self._failed.discard(update_id)
        self.fetched += 1
        try:
            update = item
            if self.parse is not None and isinstance(item, Mapping):
                self.parsed += 1
                update = self.parse(item)
            future = self.dispatch(update)  # reads the update's chat
        except Exception as exc:
            # Not handled, never in hand: the offset passes it rather than stall on it.
            log.exception("update %s could not be read; skipped: %.500r", update_id, item)
            if self.on_unreadable is not None:
                self.on_unreadable(item, exc)
            return
        self._in_hand.add(update_id)
        future.add_done_callback(lambda f: self._done(update_id, f))

    def _done(self, update_id: int, future: asyncio.Future[None]) -> None:
        self._in_hand.discard(update_id)
        self._progress.set()
        if future.cancelled() or future.exception() is not None:
            # Given up unhandled (the handler logged why): not confirmed, and fetched again.
            self._failed.add(update_id)

    def _fresh(self, update_id: int) -> bool:
        """Whether a fetched update is to be taken in (not in hand, not taken before)."""
        if update_id in self._in_hand:
            return False
        return update_id in self._failed or not self.taken(update_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; the updates in hand are left to the caller to finish."""
        failures = 0
        while not stop.is_set():
            # Hold back while enough is in hand: a fetch would mostly bring repeats.
            while len(self._in_hand) >= self.ahead and not stop.is_set():
                self._progress.clear()
                await _first(self._progress.wait(), stop.wait())
            if stop.is_set():
                break
            asked_at = asyncio.get_running_loop().time()
            fetch = asyncio.ensure_future(self.fetch(self.offset, self.timeout, self.limit))
            await _first(fetch, stop.wait())
            if not fetch.done():
                fetch.cancel()  # abandoned: it confirmed nothing we have not handled
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetch
                break
            try:
                updates = fetch.result()
            except Exception as exc:
                failures += 1
                await self._back_off(stop, failures, exc)
                continue
            failures = 0
            if not updates:
                took = asyncio.get_running_loop().time() - asked_at
                if took < self.timeout / 2:  # the server did not hold the poll
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.idle_pause)
                continue
            if not self._take_fresh(updates) and self._in_hand:
                # Only repeats: wait for a handler to finish before asking again.
                self._progress.clear()
                await _first(self._progress.wait(), stop.wait())

    async def _back_off(self, stop: asyncio.Event, failures: int, exc: Exception) -> None:
        delay = min(30.0, 0.5 * 2 ** min(failures, 6))
        log.warning("getUpdates failed (%s); again in %.1fs", exc, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    def _take_fresh(self, updates: Sequence[Any]) -> int:
        """Take the updates not seen before; returns how many there were."""
        fresh = 0
        for item in updates:
            update_id = _update_id(item)
            if not self._fresh(update_id):
                self.skipped += 1
                continue
            self._take(item, update_id)
            fresh += 1
        return fresh

    async def confirm(self) -> None:
        """Tell Telegram that everything handled is handled (after the last update ends)."""
        offset = self.offset
        if offset is None:
            return
        try:
            await self.fetch(offset, 0, 1)
        except Exception as exc:  # the engine's duplicate check covers a re-delivery
            log.warning("could not confirm updates below %s: %s", offset, exc)


def _update_id(item: Any) -> int:
    """The id of a fetched update: a parsed update object or its JSON object."""
    return int(item["update_id"] if isinstance(item, Mapping) else item.update_id)


async def _first(*aws: Awaitable[Any]) -> None:
    """Wait until the first of ``aws`` finishes; cancel the others we created."""
    tasks = [a if isinstance(a, asyncio.Future) else asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task, original in zip(tasks, aws, strict=True):
            if task is not original and not task.done():
                task.cancel()
