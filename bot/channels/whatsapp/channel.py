"""The WhatsApp channel: Meta's webhook in, the Cloud API out.

Receiving: every message of a webhook body becomes an ``Incoming`` queued per chat in
a ``ChatQueue`` (one chat in order, chats concurrently) and tried through
``Attempts`` (an outage refuses the body with 503; an update failing by itself is kept
as dead and answered 200); every status becomes a ``Receipt`` for ``on_receipt``. The
body is answered only once all of it is handled. A handled message is marked read in
the background. Message ids seen lately are remembered, so a body Meta sends again is
not handled twice (the engine's handled updates are the durable check).

Sending is ``bot.channels.whatsapp.sending``: the 24-hour window decides between a
free-form message and a template.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from bot.channels.attempts import Attempts, DeadLetters, Unavailable
from bot.channels.chat_queue import ChatQueue
from bot.channels.port import Incoming, Outgoing, Receipt, ReceiptHandler, Route, UpdateHandler
from bot.channels.whatsapp import outbound, profile
from bot.channels.whatsapp.client import GraphClient
from bot.channels.whatsapp.errors import GraphError, neutral_error
from bot.channels.whatsapp.inbound import read_batch
from bot.channels.whatsapp.sending import Sender
from bot.channels.whatsapp.webhook import Stopping, webhook_routes
from bot.channels.whatsapp.window import WindowLookup
from bot.settings import Settings
from bot.startup import StartupError

log = logging.getLogger("postsale.channels")

RECENT_IDS = 10_000  # message ids remembered for the in-memory duplicate check


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WhatsAppChannel:
    """``Channel`` on the Cloud API, receiving through ``routes``."""

    name = profile.NAME
    capabilities = profile.CAPABILITIES

    def __init__(
        self,
        settings: Settings,
        handler: UpdateHandler,
        *,
        concurrency: int = 256,
        retry_delay: float = 0.5,
        send_timeout: float = 30.0,
        pool_size: int = 100,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings, self.handler = settings, handler
        self.limits = profile.limits_of(settings)
        self.client = GraphClient(
            settings.whatsapp_api_url,
            settings.whatsapp_phone_number_id,
            settings.whatsapp_token,
            timeout=send_timeout,
            pool_size=pool_size,
        )
        self.sender = Sender(settings, self.client, clock)
        self.queue = ChatQueue(concurrency)
        self._stop = asyncio.Event()
        self.attempts = Attempts(self.name, self._stop, retry_delay)
        self.on_receipt: ReceiptHandler | None = None  # set by the bootstrap
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._background: set[asyncio.Task[None]] = set()
        self._opened = False

    # -- what the bootstrap sets -------------------------------------------------------

    @property
    def dead_letters(self) -> DeadLetters | None:
        return self.attempts.dead_letters

    @dead_letters.setter
    def dead_letters(self, keep: DeadLetters | None) -> None:
        self.attempts.dead_letters = keep

    @property
    def chat_window(self) -> WindowLookup | None:
        return self.sender.chat_window

    @chat_window.setter
    def chat_window(self, lookup: WindowLookup | None) -> None:
        self.sender.chat_window = lookup

    def is_group(self, chat_id: str) -> bool:
        return False  # the Cloud API serves one-to-one chats

    def routes(self) -> tuple[Route, ...]:
        return webhook_routes(self.settings, self)

    # -- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        """Check the token and the number once (``GET /{phone_number_id}``)."""
        if self._opened:
            return
        api = self.settings.whatsapp_api_url
        try:
            await self.client.number()
        except GraphError as exc:
            if exc.status == 401 or exc.code == 190:
                raise profile.token_rejected(api, str(exc)) from None
            raise profile.number_refused(api, str(exc)) from None
        except Exception as exc:  # Transient / Unconfirmed: no answer came
            raise profile.api_unreachable(api, str(exc) or type(exc).__name__) from None
        self._opened = True

    async def probe(self) -> None:
        """Whether the Graph API answers (before a send of unknown outcome is retried)."""
        try:
            await self.client.number()
        except GraphError as exc:
            raise neutral_error(exc) from exc

    async def start(self) -> None:
        """Connect; updates come through the routes, there is nothing to poll."""
        await self.open()

    async def stop(self) -> None:
        """Take no new bodies (503), finish the updates in hand."""
        self._stop.set()
        await self.queue.join()
        if self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        await self.queue.cancel()
        await self.client.close()

    # -- sending -----------------------------------------------------------------------

    async def send(self, message: Outgoing) -> str:
        return await self.sender.send(message)

    # -- receiving ---------------------------------------------------------------------

    async def feed_webhook(self, data: dict[str, Any]) -> None:
        """Handle one webhook body; returns once all of it is handled.

        Raises ``Stopping`` or ``Unavailable`` when Meta should send it again.
        """
        if self._stop.is_set():
            raise Stopping("stopping")
        batch = read_batch(data, self.settings.whatsapp_phone_number_id)
        for raw, exc in batch.unreadable:
            log.error("whatsapp message could not be read: %s", exc)
            await self.attempts.bury(_id_of(raw), raw, exc, hold=False)
        taken: list[tuple[str, asyncio.Future[None]]] = []
        for incoming, sent_at in batch.messages:
            if incoming.update_id in self._recent:
                continue  # Meta sent it again (our answer was slow or lost)
            self._remember(incoming.update_id)
            self.sender.saw_inbound(incoming.chat_id, sent_at)
            job = self.queue.submit(incoming.key, partial(self._handle, incoming))
            taken.append((incoming.update_id, job))
        results = await asyncio.gather(*(job for _, job in taken), return_exceptions=True)
        for receipt in batch.receipts:
            await self._receipt(receipt)
        failed = [(uid, r) for (uid, _), r in zip(taken, results, strict=True) if r is not None]
        for update_id, _ in failed:
            self._recent.pop(update_id, None)  # let Meta's retry through
        if failed:
            raise failed[0][1]

    def _remember(self, update_id: str) -> None:
        self._recent[update_id] = None
        while len(self._recent) > RECENT_IDS:
            self._recent.popitem(last=False)

    async def _handle(self, incoming: Incoming) -> None:
        refused: list[Unavailable] = []

        async def process() -> None:
            try:
                await self.handler(incoming)
            except Unavailable as exc:  # the handler's own word: Meta is to send it again
                refused.append(exc)

        await self.attempts.run(incoming.update_id, process, lambda: incoming.raw, hold=False)
        if refused:
            raise refused[0]
        wamid = incoming.raw.get("id")
        if isinstance(wamid, str):
            self._spawn(self._mark_read(wamid))

    async def _receipt(self, receipt: Receipt) -> None:
        on_receipt = self.on_receipt
        if on_receipt is None:
            return
        await self.attempts.run(
            f"status:{receipt.remote_id}:{receipt.status}",
            lambda: on_receipt(self.name, receipt),
            lambda: _receipt_dump(receipt),
            hold=False,
        )

    async def _mark_read(self, wamid: str) -> None:
        try:
            await self.client.send(outbound.read_mark(wamid))
        except Exception as exc:  # blue ticks are a courtesy: the update was handled
            log.info("marking whatsapp message %s read failed: %s", wamid, exc)

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def wait_idle(self) -> None:
        """For tests: until every update taken in so far is handled and marked read."""
        await self.queue.join()
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)


def _id_of(raw: Mapping[str, Any]) -> str | None:
    found = raw.get("id")
    return found if isinstance(found, str) else None


def _receipt_dump(receipt: Receipt) -> dict[str, Any]:
    return {
        "id": receipt.remote_id,
        "status": receipt.status,
        "timestamp": int(receipt.at.timestamp()),
        "error": receipt.error,
    }


__all__ = ["StartupError", "Stopping", "WhatsAppChannel"]
