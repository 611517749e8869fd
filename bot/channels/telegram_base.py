"""The part of a Telegram channel that does not depend on the library.

Receiving: long polling through ``UpdatePump`` (offsets confirm only handled
updates) or webhook requests through ``feed_webhook``; either way every update is
queued per chat in a ``ChatQueue`` (one chat in order, chats concurrently), then
``_process`` hands the library's update object to ``_on_update`` (python-telegram-bot
through its ``Application``, aiogram directly), which translates it into an
``Incoming`` for the engine.
Callback queries are always answered, handled, failed or unreadable, so the
client's spinner stops.

Failures (issue 21): an update that fails because the database or the disk is
failing (``storage.failures.is_infrastructure``) is held, not given up: polling keeps
it in hand (so the offset stays below it) and tries again with backoff until the
database is back; a webhook update is refused with 503 (``Unavailable``) so that
Telegram sends it again. An update that fails by itself (another error, or an
outage error while other updates succeed) is tried ``ATTEMPTS`` times, then kept
as a dead update (``dead_letters``) and confirmed; so is one that cannot be read.

Stopping: no new updates are taken, the ones in hand are finished, then the
handled ones are confirmed to Telegram (polling) -- nothing lost, nothing twice.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any

from bot.channels.base import Outgoing, UpdateHandler
from bot.channels.chat_queue import ChatQueue
from bot.channels.polling import UpdatePump
from bot.channels.telegram_common import (
    ALLOWED_UPDATES,
    MenuScope,
    callback_id_of,
    chat_key,
    menu_scopes,
    to_incoming,
)
from bot.settings import Settings
from storage.failures import is_infrastructure

log = logging.getLogger("postsale.channels")

OperatorIds = Callable[[], Awaitable[Iterable[str]]]
# Keeps an update given up on: (channel, update id or None, its JSON, the error).
DeadLetters = Callable[[str, str | None, Mapping[str, Any], str], Awaitable[None]]
RECENT_IDS = 10_000  # webhook updates remembered for the in-memory duplicate check
ATTEMPTS = 3  # tries of an update failing by itself before it is kept as dead
OUTAGE_BACKOFF_MAX = 30.0  # seconds between tries of an update held by an outage


class Stopping(Exception):
    """The channel is stopping: a webhook update is refused, Telegram sends it again."""


class Unavailable(Exception):
    """The database is failing: a webhook update is refused (503), Telegram sends it again."""


class TelegramChannel(abc.ABC):
    """Library-independent receiving, ordering, shutdown and command menu."""

    name = "telegram"

    def __init__(
        self,
        settings: Settings,
        handler: UpdateHandler,
        *,
        concurrency: int = 256,
        poll_timeout: float = 25.0,
        retry_delay: float = 0.5,
    ) -> None:
        self.settings = settings
        self.handler = handler
        self.queue = ChatQueue(concurrency)
        self.pump = UpdatePump(
            self._fetch,
            self._dispatch,
            timeout=poll_timeout,
            ahead=concurrency,
            parse=self._parse,
            on_unreadable=self._unreadable,
        )
        self.retry_delay = retry_delay
        # Extra operator ids for the command menu (the operators table), set by the runner.
        self.operator_ids: OperatorIds | None = None
        # Where updates given up on are kept (the dead_updates table), set by the runner.
        self.dead_letters: DeadLetters | None = None
        self.username: str | None = None
        self._stop = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._answers: set[asyncio.Task[None]] = set()
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._successes = 0  # updates handled: tells a poison update from an outage

    @property
    def webhook(self) -> bool:
        return bool(self.settings.webhook_url)

    # -- what each library provides ----------------------------------------------------

    @abc.abstractmethod
    async def _open(self) -> str:
        """Start the library's client (``getMe``); return the bot's username."""

    @abc.abstractmethod
    async def _fetch(self, offset: int | None, wait: float, limit: int) -> Sequence[Any]:
        """``getUpdates``: the library's update objects or their JSON objects, which
        ``UpdatePump`` has ``_parse`` read (the new ones only, each on its own)."""

    @abc.abstractmethod
    def _parse(self, data: dict[str, Any]) -> Any:
        """An update's JSON as the library's update object (raises when unreadable)."""

    @abc.abstractmethod
    def _dump(self, update: Any) -> dict[str, Any]:
        """The library's update object as the Bot API's JSON (for a dead update)."""

    @abc.abstractmethod
    async def _process(self, update: Any) -> None:
        """Have ``_on_update`` handle ``update`` (directly, or through the library's
        dispatcher); an exception means the update failed and is tried again."""

    @abc.abstractmethod
    async def _set_webhook(self, url: str, secret: str, allowed: list[str]) -> None: ...

    @abc.abstractmethod
    async def _delete_webhook(self) -> None: ...

    @abc.abstractmethod
    async def _set_menu(self, scope: MenuScope) -> None: ...

    @abc.abstractmethod
    async def _close(self) -> None: ...

    @abc.abstractmethod
    async def send(self, message: Outgoing) -> str: ...

    @abc.abstractmethod
    async def answer_callback(self, callback_id: str, text: str | None = None) -> None: ...

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, publish the command menu, then poll (or register the webhook)."""
        self.username = await self._open()
        await self.publish_menu()
        if self.webhook:
            await self._set_webhook(
                self.settings.webhook_url, self.settings.webhook_secret, ALLOWED_UPDATES
            )
            log.info("webhook set: %s", self.settings.webhook_url)
        else:
            await self._delete_webhook()  # getUpdates is refused while a webhook is set
            self._poller = asyncio.create_task(self.pump.run(self._stop), name="telegram-poll")
            log.info("long polling as @%s", self.username)

    async def stop(self) -> None:
        """Take no new updates, finish those in hand, confirm them (polling)."""
        self._stop.set()
        if self._poller is not None:
            await self._poller
        await self.queue.join()
        if self._answers:
            await asyncio.gather(*list(self._answers), return_exceptions=True)
        if self._poller is not None:
            await self.pump.confirm()
            self._poller = None

    async def close(self) -> None:
        """Release the HTTP client (after ``stop``, and after the outbox sender stopped)."""
        await self.queue.cancel()
        await self._close()

    async def publish_menu(self) -> None:
        """``setMyCommands`` for customers (per language) and for operators' chats."""
        ids = [*self.settings.operator_ids, *self.settings.admin_ids]
        if self.operator_ids is not None:
            try:
                ids.extend(await self.operator_ids())
            except Exception as exc:  # the menu is a convenience; never stop start-up
                log.warning("could not read the operators for the command menu: %s", exc)
        scopes = menu_scopes(self.settings.default_locale, ids, self.settings.operator_chat_id)
        for scope in scopes:
            try:
                await self._set_menu(scope)
            except Exception as exc:
                log.warning("setMyCommands failed for %s: %s", scope.chat_id or "all", exc)

    # -- receiving ---------------------------------------------------------------------

    def _dispatch(self, update: Any, *, hold: bool = True) -> asyncio.Future[None]:
        return self.queue.submit(chat_key(update), lambda: self._handle(update, hold))

    async def _handle(self, update: Any, hold: bool) -> None:
        try:
            await self._attempt(update, hold)
        finally:
            callback_id = callback_id_of(update)
            if callback_id is not None:
                self._spawn(self._answer_quietly(callback_id))

    async def _attempt(self, update: Any, hold: bool) -> None:
        """Handle ``update``: held through an outage, kept as dead when it fails by itself."""
        failures = outages = 0
        mark = self._successes
        while True:
            try:
                await self._process(update)
            except Exception as exc:
                # An outage error while other updates succeed (since this one last
                # failed) is this update's own failure.
                others_fine, mark = self._successes > mark, self._successes
                if is_infrastructure(exc) and not others_fine:
                    outages += 1
                    await self._wait_out(update.update_id, exc, outages, hold)
                    continue
                failures += 1
                if failures >= ATTEMPTS:
                    log.exception("update %s failed %d times: dead", update.update_id, ATTEMPTS)
                    await self._bury(str(update.update_id), self._dump(update), exc, hold)
                    return
                log.warning("update %s failed; trying again", update.update_id, exc_info=True)
                await asyncio.sleep(self.retry_delay * failures)
            else:
                self._successes += 1
                return

    async def _wait_out(self, update_id: int, exc: Exception, outages: int, hold: bool) -> None:
        """Back off before the next try of an update an outage failed; raise when not holding."""
        if not hold:
            raise Unavailable(f"update {update_id}: {exc}") from exc
        if self._stop.is_set():
            raise exc  # not confirmed: the next run takes it again
        delay = min(OUTAGE_BACKOFF_MAX, self.retry_delay * 2 ** min(outages - 1, 8))
        log.warning(
            "update %s held: the database is failing (%s); again in %.1fs", update_id, exc, delay
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), delay)

    async def _bury(
        self, update_id: str | None, raw: Mapping[str, Any], exc: Exception, hold: bool
    ) -> None:
        """Keep an update given up on; an outage while keeping it is waited out too."""
        error = "".join(traceback.format_exception_only(exc)).strip()
        outages = 0
        while self.dead_letters is not None:
            try:
                await self.dead_letters(self.name, update_id, raw, error)
                return
            except Exception as failed:
                if not is_infrastructure(failed):
                    log.exception("could not keep dead update %s: %.2000r", update_id, raw)
                    return
                outages += 1
                await self._wait_out(int(update_id or 0), failed, outages, hold)
        log.error("dead update %s (nowhere to keep it): %s: %.2000r", update_id, error, raw)

    def _unreadable(self, item: Any, exc: Exception) -> None:
        """An update the library cannot read: answer its button press, keep it as dead."""
        data = item if isinstance(item, Mapping) else self._dump(item)
        self._spawn(self._keep_unreadable(data, exc, hold=True))

    async def _keep_unreadable(self, data: Mapping[str, Any], exc: Exception, hold: bool) -> None:
        callback_id = _raw_callback_id(data)
        if callback_id is not None:
            await self._answer_quietly(callback_id)
        update_id = data.get("update_id")
        await self._bury(None if update_id is None else str(update_id), data, exc, hold)

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _answer_quietly(self, callback_id: str) -> None:
        try:
            await self.answer_callback(callback_id)
        except Exception as exc:  # e.g. "query is too old": the press was still handled
            log.info("answerCallbackQuery %s failed: %s", callback_id, exc)

    async def _on_update(self, update: Any) -> None:
        """Translate ``update`` and hand it to the engine (called by ``_process``)."""
        incoming = to_incoming(update, self.username)
        if incoming is None:
            log.debug("update %s ignored", update.update_id)
            return
        await self.handler(incoming)

    async def feed_webhook(self, data: dict[str, Any]) -> None:
        """Handle one webhook update; returns once it is handled (then Telegram is answered).

        Raises ``Stopping`` or ``Unavailable`` when Telegram should send it again; an
        update that cannot be read, or fails by itself, is kept as dead and answered.
        """
        if self._stop.is_set():
            raise Stopping("stopping")
        try:
            update = self._parse(data)
            chat_key(update)  # a shape the library let through but that names no chat
        except Exception as exc:
            log.exception("webhook update %s could not be read", data.get("update_id"))
            await self._keep_unreadable(data, exc, hold=False)
            return
        update_id = int(update.update_id)
        if update_id in self._recent:
            return  # Telegram resent it (our answer was slow or lost)
        self._recent[update_id] = None
        while len(self._recent) > RECENT_IDS:
            self._recent.popitem(last=False)
        try:
            await self._dispatch(update, hold=False)
        except Exception:
            self._recent.pop(update_id, None)  # let Telegram's retry through
            raise

    async def wait_idle(self) -> None:
        """For tests: until every update taken in so far is handled and answered."""
        await self.queue.join()
        while self._answers:
            with contextlib.suppress(Exception):
                await asyncio.gather(*list(self._answers), return_exceptions=True)


def _raw_callback_id(data: Mapping[str, Any]) -> str | None:
    """The id of the button press in an update's JSON, if it has one that can be read."""
    query = data.get("callback_query")
    found = query.get("id") if isinstance(query, Mapping) else None
    return found if isinstance(found, str) and found else None
