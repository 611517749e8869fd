"""A campaign over several processes: customers seeded in bulk, then their answers.

``seed`` writes linked customers whose orders were delivered two days ago (the
schedulers of the processes plan and queue their invitations themselves).
``Customers.play`` is each customer's closed loop: wait for the invitation at the fake
server, then post the survey's answers (an NPS press, a reason, a CSAT press) and, for
the first ones, a last message until ``updates`` updates are posted, each after the
previous one was accepted.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bot.app import Database
from storage.models import (
    ChannelIdentity,
    Customer,
    HandledUpdate,
    Order,
    OutboxMessage,
    SurveyResponse,
)
from tests.fakes import bot_api as tg
from tests.reliability.api_process import ApiProcess
from tests.reliability.fleet import Fleet

FIRST_CHAT = 30_000
REASON = "quick delivery, well packed"
BACKLOG = "queued reply"
CHUNK = 1000  # rows per bulk insert


async def seed(db: Database, customers: int) -> list[str]:
    """``customers`` customers with a linked chat and an order delivered two days ago."""
    now = datetime.now(UTC)
    delivered = now - timedelta(days=2)
    async with db.uow() as uow:
        for start in range(0, customers, CHUNK):
            ns = range(start, min(customers, start + CHUNK))
            await uow.session.execute(
                insert(Customer),
                [{"external_id": f"scale-{n}", "created_at": now - timedelta(days=9)} for n in ns],
            )
        rows = await uow.session.execute(
            select(Customer.id, Customer.external_id).where(Customer.external_id.like("scale-%"))
        )
        ids = {external: cid for cid, external in rows.all()}
        for start in range(0, customers, CHUNK):
            ns = range(start, min(customers, start + CHUNK))
            await uow.session.execute(
                insert(ChannelIdentity),
                [_identity(ids[f"scale-{n}"], n, now) for n in ns],
            )
            await uow.session.execute(
                insert(Order), [_order(ids[f"scale-{n}"], n, delivered) for n in ns]
            )
        await uow.commit()
    return [str(FIRST_CHAT + n) for n in range(customers)]


def _identity(customer_id: int, n: int, now: datetime) -> dict[str, Any]:
    chat = str(FIRST_CHAT + n)
    return {
        "customer_id": customer_id,
        "channel": "telegram",
        "chat_id": chat,
        "user_id": chat,
        "linked_at": now - timedelta(days=8),
    }


def _order(customer_id: int, n: int, delivered: datetime) -> dict[str, Any]:
    return {
        "external_id": f"scale-order-{n}",
        "customer_id": customer_id,
        "total_cents": 12_990,
        "currency": "BRL",
        "purchased_at": delivered - timedelta(days=3),
        "delivered_at": delivered,
        "created_at": delivered,
        "updated_at": delivered,
    }


@dataclass
class Customers:
    """The customers' side: what each posted, in order, and when the posting ran."""

    fleet: Fleet
    api: ApiProcess
    chats: list[str]
    updates: int
    in_flight: int = 64
    posted: dict[str, list[int]] = field(default_factory=dict)  # chat: update ids in order
    followups: dict[str, int] = field(default_factory=dict)  # chat: its invitation's id
    first_post: float | None = None
    last_accept: float = 0.0
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _events: dict[str, asyncio.Event] = field(default_factory=dict)

    def steps(self, n: int) -> int:
        """How many updates the ``n``-th customer posts (3 answers, maybe one more)."""
        more, left = divmod(max(0, self.updates - 3 * len(self.chats)), len(self.chats))
        return 3 + more + (1 if n < left else 0)

    async def play(self, within: float = 600) -> None:
        watching = asyncio.create_task(self._watch())
        gate = asyncio.Semaphore(self.in_flight)
        try:
            async with asyncio.timeout(within):
                await asyncio.gather(
                    *(self._one(n, chat, gate) for n, chat in enumerate(self.chats))
                )
        finally:
            watching.cancel()

    async def until_invited(self, within: float) -> None:
        """Until every customer's invitation reached the fake server."""
        watching = asyncio.create_task(self._watch())
        try:
            async with asyncio.timeout(within):
                while len(self.followups) < len(self.chats):  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
        finally:
            watching.cancel()

    async def _watch(self) -> None:
        while True:
            for arrival in await self.api.refresh():
                for data in arrival.buttons:
                    if data.startswith("nps:") and arrival.chat_id not in self.followups:
                        self.followups[arrival.chat_id] = int(data.split(":")[1])
                        self._invited(arrival.chat_id).set()
            await asyncio.sleep(0.1)

    def _invited(self, chat: str) -> asyncio.Event:
        # One event per chat, set by the watcher: 3,000 customers each polling ten times
        # a second woke the test's loop 30,000 times a second, CPU the bots went without.
        return self._events.setdefault(chat, asyncio.Event())

    async def _one(self, n: int, chat: str, gate: asyncio.Semaphore) -> None:
        await self._invited(chat).wait()
        fid, ident = self.followups[chat], int(chat)
        for step in range(self.steps(n)):
            update = {"update_id": next(self._ids), **_script(ident, fid, step)}
            async with gate:
                if self.first_post is None:
                    self.first_post = time.monotonic()
                await self.fleet.post(update)
                self.last_accept = max(self.last_accept, time.monotonic())
            self.posted.setdefault(chat, []).append(update["update_id"])

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.posted.values())


def _script(chat: int, fid: int, step: int) -> dict[str, Any]:
    if step == 0:
        return tg.callback(chat, f"nps:{fid}:8")
    if step == 1:
        return tg.message(chat, REASON)
    if step == 2:
        return tg.callback(chat, f"csat:{fid}:4")
    return tg.message(chat, "thanks")


async def queue_replies(db: Database, chats: list[str], count: int) -> list[str]:
    """``count`` replies queued at once, spread over ``chats``; their texts."""
    now = datetime.now(UTC)
    texts = [f"{BACKLOG} {n}" for n in range(count)]
    async with db.uow() as uow:
        await uow.session.execute(
            insert(OutboxMessage),
            [
                {
                    "channel": "telegram",
                    "chat_id": chats[n % len(chats)],
                    "purpose": "reply",
                    "body": {"text": text},
                    "status": "queued",
                    "created_at": now,
                    "attempts": 0,
                }
                for n, text in enumerate(texts)
            ],
        )
        await uow.commit()
    return texts


async def queued(db: Database) -> int:
    async with db.uow() as uow:
        query = select(func.count()).where(OutboxMessage.status == "queued")
        return int(await uow.session.scalar(query) or 0)


async def until_drained(db: Database, within: float) -> None:
    """Until nothing is queued in the outbox."""
    async with asyncio.timeout(within):
        while await queued(db):  # noqa: ASYNC110 - other processes send
            await asyncio.sleep(0.5)


async def answers(db: Database) -> Counter[tuple[int, str]]:
    async with db.uow() as uow:
        rows = await uow.session.execute(
            select(SurveyResponse.followup_id, SurveyResponse.kind, func.count()).group_by(
                SurveyResponse.followup_id, SurveyResponse.kind
            )
        )
        return Counter({(int(f or 0), str(k)): int(n) for f, k, n in rows.all()})


async def reasons(db: Database) -> dict[int, str | None]:
    async with db.uow() as uow:
        query = select(SurveyResponse.followup_id, SurveyResponse.reason).where(
            SurveyResponse.kind == "nps"
        )
        return {int(f or 0): r for f, r in (await uow.session.execute(query)).all()}


async def handled_at(db: Database) -> dict[int, datetime]:
    async with db.uow() as uow:
        query = select(HandledUpdate.update_id, HandledUpdate.handled_at).where(
            HandledUpdate.channel == "telegram"
        )
        return {int(u): at for u, at in (await uow.session.execute(query)).all()}


async def sent_texts(db: Database) -> dict[str, list[str]]:
    """Each chat's sent messages (edits left out), in the order the bot queued them."""
    async with db.uow() as uow:
        query = (
            select(OutboxMessage.chat_id, OutboxMessage.body)
            .where(OutboxMessage.status == "sent")
            .order_by(OutboxMessage.id)
        )
        found: dict[str, list[str]] = {}
        for chat, body in (await uow.session.execute(query)).all():
            if body.get("edit_message_id") is None:
                found.setdefault(chat, []).append(str(body.get("text") or ""))
        return found


async def counts(db: Database) -> tuple[int, int]:
    """Updates handled and outbox messages sent, as the database holds them."""
    async with db.uow() as uow:
        handled = await uow.session.scalar(select(func.count()).select_from(HandledUpdate))
        sent = await uow.session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
        return int(handled or 0), int(sent or 0)
