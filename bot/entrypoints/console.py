"""The terminal chat: the same engine and database, a person at the keyboard.

Two chats live on the ``console`` channel: ``customer`` (a demo customer with a
delivered order) and ``operator`` (an admin). ``/operator`` and ``/customer``
switch between them; ``#N`` presses button N of the last message with buttons.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from bot.app import Database, open_database
from bot.bootstrap import build_core
from bot.channels.port import Incoming
from bot.delivery import exports
from bot.engine.pipeline import utcnow
from bot.log_secrets import hide_secrets
from bot.settings import Settings
from flows.events import ButtonIn, CommandIn, ContactIn, Event, MediaIn, TextIn
from storage.models import ChannelIdentity, Customer, FollowUp, Order, OutboxMessage

CHANNEL = "console"
DEMO_CUSTOMER = "demo"
DEMO_ORDER = "DEMO-1001"
OPERATOR_USER = "console-operator"
OPERATOR_CHAT = "operator"
MEDIA = {":sticker": "sticker", ":photo": "photo", ":voice": "voice", ":document": "document"}

HELP = """\
Terminal chat. You are the demo customer; the bot writes as "bot>".
  type an answer, or #N to press button N of the last buttons shown
  /problem /help /language /stop /mydata /forget   customer commands
  /operator, then /kpi /tickets /ticket N /reply N text /resolve N /help   operator side
  /customer   back to the customer        :sticker :photo :voice   send media
  /contact +5511987654321   share a phone number        /quit   leave
"""


class Console:
    """Drives the engine from lines of text and prints what the bot sends."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        out: IO[str] = sys.stdout,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        # The operator's chat stands in for the operators' group: tickets are announced there.
        settings = settings.model_copy(
            update={
                "admin_ids": [*settings.admin_ids, OPERATOR_USER],
                "operator_chat_id": OPERATOR_CHAT,
            }
        )
        self.db, self.settings, self.out, self.clock = db, settings, out, clock
        self.core = build_core(db, settings, clock)
        self.role = "customer"
        self.buttons: dict[str, list[dict[str, str]]] = {"customer": [], "operator": []}
        self._pressed: str | None = None
        self._ids = itertools.count(int(clock().timestamp() * 1000))

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

    def parse(self, line: str) -> Event | None:
        text = line.strip()
        if text.startswith("#") and text[1:].isdigit():
            shown = self.buttons[self.role]
            index = int(text[1:]) - 1
            if 0 <= index < len(shown):
                self._pressed = shown[index]["text"]  # the transcript shows this label
                return ButtonIn(shown[index]["data"])
            self._print(f"(no button {text[1:]} on screen)")
            return None
        if text in MEDIA:
            return MediaIn(MEDIA[text])
        if text.startswith("/contact"):
            return ContactIn(text[len("/contact") :].strip(), own=True)
        if text.startswith("/") and len(text) > 1:
            name, _, args = text[1:].partition(" ")
            return CommandIn(name.lower(), args.strip())
        return TextIn(line.rstrip("\n"))

    async def send(self, event: Event) -> None:
        chat = self.role
        await self.core.pipeline.handle(
            Incoming(
                channel=CHANNEL,
                update_id=str(next(self._ids)),
                chat_id=chat,
                user_id=OPERATOR_USER if chat == "operator" else "console-customer",
                chat_type="private",
                event=event,
                language_code=None,
                first_name="Operator" if chat == "operator" else "Ana",
                button_label=self._pressed if isinstance(event, ButtonIn) else None,
            )
        )
        self._pressed = None
        await self.drain()

    async def drain(self) -> None:
        """Deliver the console's queued outbox messages to the terminal."""
        async with self.db.uow() as uow:
            rows = (
                await uow.session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.channel == CHANNEL, OutboxMessage.status == "queued")
                    .order_by(OutboxMessage.id)
                )
            ).all()
            for row in rows:
                self._show(row.chat_id, await self._attachments(row.body))
                row.status = "sent"
                row.sent_at = self.clock()
                row.attempts += 1
            await uow.commit()

    async def _attachments(self, body: dict[str, Any]) -> dict[str, Any]:
        """Render a chart into a PNG, as the outbox sender does before sending."""
        if not body.get("chart"):
            return body
        from bot.operators.chart import materialize_attachments

        return await materialize_attachments(self.db, body, self.settings)

    def _show(self, chat: str, body: dict[str, Any]) -> None:
        who = "bot>" if chat == self.role else f"bot (to {chat})>"
        if body.get("text"):
            self._print(f"{who} {body['text']}")
        for key in ("photo_path", "document_path"):
            if body.get(key):
                self._print(f"{who} [file] {body[key]}")
        flat = [b for row in body.get("buttons", []) for b in row]
        if flat:
            self.buttons[chat] = flat
            labels = "  ".join(f"[#{i}] {b['text']}" for i, b in enumerate(flat, 1))
            self._print(f"     {labels}")
        if body.get("request_contact"):
            self._print("     (share your phone: /contact +55...)")

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def repl(self, read_line: Callable[[], str] | None = None) -> None:
        reader = read_line or sys.stdin.readline
        self._print(HELP)
        await self.drain()
        while True:
            self.out.write(f"{self.role}> ")
            self.out.flush()
            line = await asyncio.to_thread(reader)
            if not line or line.strip() in ("/quit", "/exit"):
                self._print("bye")
                return
            stripped = line.strip()
            if not stripped:
                continue
            if stripped in ("/operator", "/customer"):
                self.role = stripped[1:]
                self._print(f"(you are now the {self.role})")
                await self.drain()
                continue
            event = self.parse(line)
            if event is not None:
                await self.send(event)


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
        console._print(f"(log lines go to {log_path})")
        await console.seed_demo()
        await console.repl()
    finally:
        await db.close()
    return 0


__all__ = ["Console", "run_console"]
