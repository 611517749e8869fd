"""The bot's receiving and sending halves wired as ``postsale run`` wires them, for tests.

A real adapter (aiogram or python-telegram-bot) talking HTTP to ``FakeBotApi``, the
real engine on a real database, and the real outbox sender delivering the replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from bot.app import Database
from bot.bootstrap import build_app
from bot.channels.registry import enabled_factories
from bot.channels.telegram.factory import TelegramChannel
from bot.delivery.limits import SendLimits
from bot.handling import Tagger
from bot.settings import Settings
from storage.db import is_sqlite
from storage.models import OutboxMessage
from tests.fakes.bot_api import TOKEN, FakeBotApi

FAST = SendLimits(global_rate=2000, per_chat_rate=1000, poll_interval=0.05, backoff_base=0.05)


def telegram_settings(url: str, framework: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "telegram_api_url": url,
        "bot_framework": framework,
        "default_locale": "en",
        "database_url": "sqlite+aiosqlite://",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class BotStack:
    """Adapter + pipeline + outbox sender on ``db``, built by ``bot.bootstrap``; ``start``/``stop``
    like a process."""

    def __init__(
        self,
        api: FakeBotApi,
        settings: Settings,
        db: Database,
        clock: Callable[[], datetime],
        *,
        tagger: Tagger | None = None,
        **channel_options: Any,
    ) -> None:
        self.api, self.settings, self.db = api, settings, db
        channel_options.setdefault("poll_timeout", 5.0)
        # As ``postsale run`` does: SQLite has one writer, so updates go one at a time.
        channel_options.setdefault("concurrency", 1 if is_sqlite(str(db.engine.url)) else 32)
        # Built as ``postsale run`` builds it; the scheduler's passes are the tests' to run.
        channels = enabled_factories(settings, {"telegram": channel_options})
        assert list(channels) == ["telegram"], "the stack needs BOT_TOKEN set"
        self.app = build_app(
            db, settings, channels, clock, limits=FAST, log_every=3600, tagger=tagger
        )
        self.core = self.app.core
        self.engine = self.core.pipeline
        self.messenger = self.core.messenger
        self.scheduler = self.core.scheduler
        self.channel: TelegramChannel = self.app.channels["telegram"]
        self.sender = self.app.sender
        self._stop = asyncio.Event()
        self._sending: asyncio.Task[None] | None = None

    async def start(self) -> BotStack:
        self._sending = asyncio.create_task(self.sender.run(self._stop))
        await self.channel.start()
        return self

    async def stop(self) -> None:
        # Bounded, so that a hang shows up as a failure naming the step.
        try:
            async with asyncio.timeout(15):
                await self.channel.stop()
        finally:
            self._stop.set()
            if self._sending is not None:
                async with asyncio.timeout(15):
                    await self._sending
            async with asyncio.timeout(15):
                await self.channel.close()

    async def queued_messages(self) -> int:
        async with self.db.uow() as uow:
            return int(await uow.session.scalar(select(func.count(OutboxMessage.id))) or 0)

    async def deliver(self, *updates: dict[str, Any]) -> list[int]:
        """Inject ``updates``, wait until they are handled and every reply reached the server."""
        ids = await self.api.inject(*updates)
        pump = self.channel.pump
        await self.api.wait_until(lambda: all(pump.taken(i) for i in ids))
        await self.channel.wait_idle()
        await self.flush()
        return ids

    async def flush(self) -> None:
        """Wait until everything in the outbox was sent (each row is one send or edit)."""
        queued = await self.queued_messages()
        self.sender.wake()
        await self.api.wait_until(lambda: self.api.delivered() >= queued)
