"""The part of a Telegram channel that does not depend on the library.

Receiving: long polling through ``UpdatePump`` (offsets confirm only handled
updates) or webhook requests through ``routes`` and ``feed_webhook``; either way every update is
queued per chat in a ``ChatQueue`` (one chat in order, chats concurrently), then
``_process`` hands the library's update object to ``_on_update`` (python-telegram-bot
through its ``Application``, aiogram directly), which translates it into an
``Incoming`` for the engine.
Callback queries are always answered, handled, failed or unreadable, so the
client's spinner stops.

Failures (issue 21, ``bot.channels.attempts``): an update that fails because the
database is failing is held (polling) or refused with 503 (webhook), never given up;
one that fails by itself, or cannot be read, is kept as a dead update.

Stopping: no new updates are taken, the ones in hand are finished, then the
handled ones are confirmed to Telegram (polling) -- nothing lost, nothing twice.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any

from bot.channels.attempts import Attempts, DeadLetters, Unavailable
from bot.channels.chat_queue import ChatQueue
from bot.channels.port import Incoming, Outgoing, Route, UpdateHandler
from bot.channels.telegram import profile
from bot.channels.telegram.common import (
    ALLOWED_UPDATES,
    MenuScope,
    callback_id_of,
    chat_key,
    json_callback_id,
    menu_scopes,
    to_incoming,
)
from bot.channels.telegram.polling import UpdatePump
from bot.channels.telegram.webhook import Stopping, webhook_route
from bot.settings import Settings

__all__ = ["DeadLetters", "Stopping", "TelegramChannel", "Unavailable"]

log = logging.getLogger("postsale.channels")

OperatorIds = Callable[[], Awaitable[Iterable[str]]]
RECENT_IDS = 10_000  # webhook updates remembered for the in-memory duplicate check


class TelegramChannel(abc.ABC):
    """Library-independent receiving, ordering, shutdown and command menu."""

    name = profile.NAME
    capabilities = profile.CAPABILITIES

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
        self.limits = profile.limits_of(settings)
        self.queue = ChatQueue(concurrency)
        self.pump = UpdatePump(
            self._fetch,
            self._dispatch,
            timeout=poll_timeout,
            ahead=concurrency,
            parse=self._parse,
            on_unreadable=self._unreadable,
        )
        # Extra operator ids for the command menu (the operators table), set by the runner.
        self.operator_ids: OperatorIds | None = None
        self.username: str | None = None
        self._stop = asyncio.Event()
        self.attempts = Attempts(self.name, self._stop, retry_delay)
        self._poller: asyncio.Task[None] | None = None
        self._answers: set[asyncio.Task[None]] = set()
        self._recent: OrderedDict[int, None] = OrderedDict()

    @property
    def dead_letters(self) -> DeadLetters | None:
        """Where updates given up on are kept (the dead_updates table), set by the runner."""
        return self.attempts.dead_letters

    @dead_letters.setter
    def dead_letters(self, keep: DeadLetters | None) -> None:
        self.attempts.dead_letters = keep

    @property
    def webhook(self) -> bool:
        return bool(self.settings.webhook_url)

    def is_group(self, chat_id: str) -> bool:
        return profile.is_group(chat_id)

    def routes(self) -> tuple[Route, ...]:
        """The webhook (``bot.channels.telegram.webhook``) when ``WEBHOOK_URL`` is set."""
        return (webhook_route(self.settings, self),) if self.webhook else ()

    async def acknowledge(self, incoming: Incoming) -> None:
        """Answer the button press in ``incoming`` (a no-op for anything else)."""
        if incoming.callback_id is not None:
            await self.answer_callback(incoming.callback_id)

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

    async def open(self) -> None:
        """Connect (``getMe``) once; a wrong token or no Bot API is a ``StartupError``."""
        if self.username is None:
            self.username = await self._open()

    async def start(self) -> None:
        """Connect, publish the command menu, then poll (or register the webhook)."""
        await self.open()
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
        # OPERATOR_CHAT_ID is a Telegram chat only when the operators are on Telegram.
        on_telegram = self.settings.operator_channel == self.name
        group = self.settings.operator_chat_id if on_telegram else ""
        scopes = menu_scopes(self.settings.default_locale, ids, group)
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
            await self.attempts.run(
                update.update_id,
                lambda: self._process(update),
                lambda: self._dump(update),
                hold=hold,
            )
        finally:
            callback_id = callback_id_of(update)
            if callback_id is not None:
                self._spawn(self._answer_quietly(callback_id))

    def _unreadable(self, item: Any, exc: Exception) -> None:
        """An update the library cannot read: answer its button press, keep it as dead."""
        data = item if isinstance(item, Mapping) else self._dump(item)
        self._spawn(self._keep_unreadable(data, exc, hold=True))

    async def _keep_unreadable(self, data: Mapping[str, Any], exc: Exception, hold: bool) -> None:
        callback_id = json_callback_id(data)
        if callback_id is not None:
            await self._answer_quietly(callback_id)
        update_id = data.get("update_id")
        found = None if update_id is None else str(update_id)
        await self.attempts.bury(found, data, exc, hold=hold)

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
