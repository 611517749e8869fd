"""The bot with its WhatsApp channel wired as ``postsale run`` wires it, for tests.

The registry's channels built by ``bot.bootstrap.build_app``, the real outbox sender,
and the real HTTP server (``start_http_server``) on a free loopback port, where Meta's
side (``WebhookPoster``) posts signed webhook bodies; the Graph API is
``FakeCloudApi``. With ``telegram`` (a ``FakeBotApi``) the Telegram channel runs beside
it in the same app, as operators work from Telegram while customers are on WhatsApp.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot.app import Database
from bot.bootstrap import build_app
from bot.channels.registry import enabled_factories
from bot.channels.telegram.factory import TelegramChannel
from bot.channels.whatsapp.factory import WhatsAppChannel
from bot.entrypoints.http.app import start_http_server
from bot.settings import Settings
from storage.db import is_sqlite
from storage.models import OutboxMessage
from tests.fakes import bot_api, cloud_api
from tests.fakes import wa_updates as wa
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.cloud_api import FakeCloudApi, WebhookPoster
from tests.fakes.telegram_stack import FAST

# Telegram's 20 a minute to a group would space the operators' group's messages 3 s apart.
LIMITS = replace(FAST, group_per_minute=None)


def whatsapp_settings(api_url: str, telegram_url: str | None = None, **overrides: Any) -> Settings:
    """WHATSAPP_* pointing at the fake Cloud API (and BOT_TOKEN at the fake Bot API)."""
    values: dict[str, Any] = {
        "whatsapp_token": cloud_api.TOKEN,
        "whatsapp_phone_number_id": wa.PHONE_NUMBER_ID,
        "whatsapp_app_secret": cloud_api.APP_SECRET,
        "whatsapp_verify_token": cloud_api.VERIFY_TOKEN,
        "whatsapp_api_url": api_url,
        "http_host": "127.0.0.1",
        "http_port": 0,  # the stack reads the port it got
        "default_locale": "en",
        "database_url": "sqlite+aiosqlite://",
    }
    if telegram_url is not None:
        values.update(
            bot_token=bot_api.TOKEN, telegram_api_url=telegram_url, bot_framework="aiogram"
        )
    values.update(overrides)
    return Settings(_env_file=None, **values)


class WhatsAppStack:
    """The app on ``db`` with its HTTP server; ``start``/``stop`` like a process."""

    def __init__(
        self,
        api: FakeCloudApi,
        settings: Settings,
        db: Database,
        clock: Callable[[], datetime],
        telegram: FakeBotApi | None = None,
    ) -> None:
        self.api, self.settings, self.db, self.clock = api, settings, db, clock
        self.telegram_api = telegram
        # As ``postsale run`` does: SQLite has one writer, so Telegram's updates go one at
        # a time (the webhook's bodies are answered one by one anyway).
        concurrency = 1 if is_sqlite(str(db.engine.url)) else 32
        options: dict[str, dict[str, Any]] = {
            "whatsapp": {"clock": clock, "retry_delay": 0.01},
            "telegram": {"poll_timeout": 5.0, "concurrency": concurrency},
        }
        channels = enabled_factories(settings, options)
        expected = ["telegram", "whatsapp"] if telegram is not None else ["whatsapp"]
        assert list(channels) == expected, f"the settings enable {list(channels)}"
        self.app = build_app(db, settings, channels, clock, limits=LIMITS, log_every=3600)
        self.core = self.app.core
        self.engine = self.core.pipeline
        self.messenger = self.core.messenger
        self.scheduler = self.core.scheduler
        self.channel: WhatsAppChannel = self.app.channels["whatsapp"]
        self.telegram: TelegramChannel | None = self.app.channels.get("telegram")
        self.sender = self.app.sender
        self.meta: WebhookPoster | None = None
        self._http: web.AppRunner | None = None
        self._stop = asyncio.Event()
        self._sending: asyncio.Task[None] | None = None

    async def start(self) -> WhatsAppStack:
        """As ``postsale run``: credentials checked, the HTTP server up, then the channels."""
        for channel in self.app.channels.values():
            await channel.open()
        self._http = await start_http_server(
            self.settings, self.db, self.app.channels, on_orders=self.sender.wake
        )
        assert self._http is not None, "the WhatsApp routes need the HTTP server"
        host, port = self._http.addresses[0][:2]
        self.meta = WebhookPoster(f"http://{host}:{port}/whatsapp", api=self.api)
        self._sending = asyncio.create_task(self.sender.run(self._stop))
        for channel in self.app.channels.values():
            await channel.start()
        return self

    async def stop(self) -> None:
        """As ``postsale run`` stops: channels, then the sender, the server, the clients."""
        try:
            async with asyncio.timeout(15):
                await asyncio.gather(*(c.stop() for c in self.app.channels.values()))
        finally:
            self._stop.set()
            if self._sending is not None:
                async with asyncio.timeout(15):
                    await self._sending
            if self._http is not None:
                await self._http.cleanup()
            for channel in self.app.channels.values():
                async with asyncio.timeout(15):
                    await channel.close()

    # -- Meta's side -------------------------------------------------------------------

    async def post(self, *values: dict[str, Any]) -> int:
        """POST ``values`` signed, as one body; once answered, wait for every reply sent."""
        assert self.meta is not None, "start the stack first"
        status = await self.meta.post(*values)
        await self.channel.wait_idle()  # the read marks go in the background
        await self.flush()
        return status

    async def deliver(self, *values: dict[str, Any]) -> None:
        """``post`` that must be answered 200 (every message and status handled)."""
        status = await self.post(*values)
        assert status == 200, f"the webhook answered {status}"

    # -- Telegram's side ---------------------------------------------------------------

    async def tell(self, *updates: dict[str, Any]) -> None:
        """Telegram updates (an operator's commands): handled, and the replies sent."""
        assert self.telegram is not None and self.telegram_api is not None
        ids = await self.telegram_api.inject(*updates)
        pump = self.telegram.pump
        await self.telegram_api.wait_until(lambda: all(pump.taken(i) for i in ids))
        await self.telegram.wait_idle()
        await self.flush()

    # -- the outbox --------------------------------------------------------------------

    async def queued(self) -> int:
        async with self.db.uow() as uow:
            query = select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "queued")
            return int(await uow.session.scalar(query) or 0)

    async def flush(self, within: float = 10.0) -> None:
        """Wait until no outbox row is left queued: each was sent (it reached the fake
        server) or failed for good."""
        async with asyncio.timeout(within):
            while await self.queued():
                self.sender.wake()
                await asyncio.sleep(0.02)

    def at(self) -> int:
        """Now on the stack's clock, as a webhook's ``timestamp``."""
        return int(self.clock().timestamp())
