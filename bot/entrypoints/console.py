"""The terminal chat: the same engine, database and outbox sender, a person at the keyboard.

The console is a channel like Telegram (``bot.channels.console``): its lines come in as
updates and the outbox sender prints what the bot sends. Two chats live on it:
``customer`` (a demo customer with a delivered order) and ``operator`` (an admin, who
gets the operators' alerts: ``OPERATOR_CHANNEL=console``).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import select

from bot.app import Database, open_database
from bot.bootstrap import build_app
from bot.channels.console import NAME as CHANNEL
from bot.channels.console import OPERATOR_CHAT, OPERATOR_USER, ConsoleChannel
from bot.channels.registry import enabled_factories
from bot.delivery import exports
from bot.engine.pipeline import utcnow
from bot.log_secrets import hide_secrets
from bot.settings import Settings
from storage.models import ChannelIdentity, Customer, FollowUp, Order
from storage.outbox import queued_on

DEMO_CUSTOMER = "demo"
DEMO_ORDER = "DEMO-1001"
SETTLE_FOR = 10.0  # seconds a reply may take to reach the screen before the prompt


class Console:
    """The engine, the console channel and the outbox sender on one database."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        out: IO[str] | None = None,
        read_line: Callable[[], str] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        # The operator's chat stands in for the operators' group: tickets are announced there.
        settings = settings.model_copy(
            update={
                "admin_ids": [*settings.admin_ids, OPERATOR_USER],
                "operator_chat_id": OPERATOR_CHAT,
                "operator_channel": CHANNEL,
            }
        )
        self.db, self.settings, self.clock = db, settings, clock
        options = {
            "out": out or sys.stdout,
            "read_line": read_line,
            "settle": self.settle,
            # Update ids stay unique across runs on the same database (the duplicate check).
            "first_id": int(clock().timestamp() * 1000),
        }
        factories = enabled_factories(settings, {CHANNEL: options}, terminal=True)
        app = build_app(db, settings, factories, clock)
        channel = app.channels[CHANNEL]
        assert isinstance(channel, ConsoleChannel)
        self.core, self.channel, self.sender = app.core, channel, app.sender

    async def settle(self) -> None:
        """Until the console's queued messages are on the screen (or ``SETTLE_FOR``)."""
        self.sender.wake()
        loop = asyncio.get_running_loop()
        give_up = loop.time() + SETTLE_FOR
        while loop.time() < give_up:
            async with self.db.reader() as uow:
                left = await queued_on(uow.session, CHANNEL)
            if not left and not self.sender.in_flight:
                return
            await asyncio.sleep(0.01)

    async def run(self) -> None:
        """Seed the demo, then chat until the person leaves."""
        stop = asyncio.Event()
        sending = asyncio.create_task(self.sender.run(stop), name="outbox")
        try:
            await self.seed_demo()
            await self.channel.start()
            await self.channel.done.wait()
        finally:
            await self.channel.stop()
            stop.set()
            await sending

    async def seed_demo(self) -> None:
        """The demo customer, a delivered order, the linked chat and a survey invitation."""
        now = self.clock()
        async with self.db.uow() as uow:
            s = uow.session
            customer = await s.scalar(select(Customer).where(Customer.external_id == DEMO_CUSTOMER))
            if customer is None:
                customer = Customer(
                    external_id=DEMO_CUSTOMER, name="Ana Souza", created_at=now, timezone=None
                )
                s.add(customer)
                await s.flush()
            order = await s.scalar(select(Order).where(Order.external_id == DEMO_ORDER))
            if order is None:
                order = Order(
                    external_id=DEMO_ORDER,
                    customer_id=customer.id,
                    total_cents=12990,
                    currency="BRL",
                    purchased_at=now - timedelta(days=5),
                    delivered_at=now - timedelta(days=1),
                    created_at=now,
                    updated_at=now,
                )
                s.add(order)
                await s.flush()
            identity = await s.scalar(
                select(ChannelIdentity).where(
                    ChannelIdentity.channel == CHANNEL, ChannelIdentity.chat_id == "customer"
                )
            )
            if identity is None:
                s.add(
                    ChannelIdentity(
                        customer_id=customer.id,
                        channel=CHANNEL,
                        chat_id="customer",
                        user_id="console-customer",
                        linked_at=now,
                    )
                )
            followup = await s.scalar(select(FollowUp).where(FollowUp.order_id == order.id))
            if followup is None:
                followup = FollowUp(
                    order_id=order.id,
                    customer_id=customer.id,
                    status="sent",
                    due_at=now,
                    sent_at=now,
                )
                s.add(followup)
                await s.flush()
                await self.core.messenger.start_survey(s, followup, now)
                customer.last_surveyed_at = now
            await uow.commit()


def log_to_file(settings: Settings) -> Path:
    """Keep log lines out of the chat: all of them to a file, WARNING and up on stderr."""
    path = Path(settings.data_dir) / "console.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    on_screen = logging.StreamHandler(sys.stderr)
    on_screen.setLevel(logging.WARNING)
    on_screen.setFormatter(logging.Formatter("(log) %(levelname)s %(name)s: %(message)s"))
    root.addHandler(to_file)
    root.addHandler(on_screen)
    return path


async def run_console(settings: Settings) -> int:
    log_path = log_to_file(settings)
    hide_secrets(settings)  # the new handlers redact as the ones they replace did
    logging.getLogger("postsale.console").info("console chat on %s", settings.database_url)
    db = await open_database(settings)
    try:
        # The console shows exports as paths and never deletes them; old ones go here.
        await exports.sweep_now(settings.data_dir, settings.export_ttl)
        console = Console(db, settings)
        console.channel.print(f"(log lines go to {log_path})")
        await console.run()
    finally:
        await db.close()
    return 0


__all__ = ["Console", "run_console"]
