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
from bot.channels.telegram.factory import TelegramChannel, build_telegram_channel
from bot.delivery.limits import SendLimits
from bot.delivery.sender import OutboxSender
from bot.engine.dead_letters import DeadLetters
from bot.engine.pipeline import Engine
from bot.operators import handle_operator
from bot.operators.chart import materialize_attachments
from bot.scheduling.scheduler import Scheduler
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
    """Adapter + engine + outbox sender on ``db``; ``start``/``stop`` like a process."""

    def __init__(
        self,
        api: FakeBotApi,
        settings: Settings,
        db: Database,
        clock: Callable[[], datetime],
        **channel_options: Any,
    ) -> None:
        self.api, self.settings, self.db = api, settings, db
        self.engine = Engine(db, settings, clock, handle_operator)
        # As ``postsale run`` wires it; the scheduler's passes are the tests' to run.
        self.scheduler = Scheduler(db, settings, self.engine, clock)
        self.engine.on_linked = self.scheduler.start_due_of
        channel_options.setdefault("poll_timeout", 5.0)
        # As ``postsale run`` does: SQLite has one writer, so updates go one at a time.
        channel_options.setdefault("concurrency", 1 if is_sqlite(str(db.engine.url)) else 32)
        self.channel: TelegramChannel = build_telegram_channel(
            settings, self.engine.handle, **channel_options
        )
        self.channel.dead_letters = DeadLetters(db, clock).record
        self.sender = OutboxSender(
            db,
            {"telegram": self.channel},
            FAST,
            clock,
            log_every=3600,
            render_body=lambda body: materialize_attachments(db, body, settings),
        )
        self.engine.on_queued.append(self.sender.wake)
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
