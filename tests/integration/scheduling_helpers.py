"""Helpers for scheduler tests: a moved clock, rows, and a survey starter double."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Database
from storage.models import ChannelIdentity, Customer, FollowUp, Order
from storage.outbox import enqueue
from storage.outbox_body import OutboxBody


class MovedClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when
        return when


class OutboxSurveyStarter:
    """A stand-in for the engine's scheduler methods that queues plain outbox rows.

    It does what the engine's contract says (an invitation for a customer with a
    linked chat, False otherwise) without the conversation flows.
    """

    async def _chat(self, session: AsyncSession, customer_id: int) -> ChannelIdentity | None:
        return await session.scalar(
            select(ChannelIdentity)
            .where(ChannelIdentity.customer_id == customer_id)
            .order_by(ChannelIdentity.id.desc())
            .limit(1)
        )

    async def _queue(
        self, session: AsyncSession, followup: FollowUp, now: datetime, purpose: str
    ) -> bool:
        chat = await self._chat(session, followup.customer_id)
        if chat is None:
            return False
        await enqueue(
            session,
            channel=chat.channel,
            chat_id=chat.chat_id,
            body=OutboxBody(text=f"{purpose} {followup.id}"),
            purpose=purpose,
            now=now,
            customer_id=followup.customer_id,
        )
        return True

    async def start_survey(self, session: AsyncSession, followup: FollowUp, now: datetime) -> bool:
        return await self._queue(session, followup, now, "invitation")

    async def remind(self, session: AsyncSession, followup: FollowUp, now: datetime) -> bool:
        return await self._queue(session, followup, now, "reminder")

    async def expire(self, session: AsyncSession, followup: FollowUp, now: datetime) -> None:
        await self._queue(session, followup, now, "expiry")


async def add_customer(
    db: Database,
    external_id: str,
    *,
    now: datetime,
    chat_id: str | None = None,
    timezone: str | None = None,
    **fields: object,
) -> int:
    async with db.uow() as uow:
        customer = Customer(external_id=external_id, created_at=now, timezone=timezone, **fields)
        uow.session.add(customer)
        await uow.session.flush()
        if chat_id is not None:
            uow.session.add(
                ChannelIdentity(
                    customer_id=customer.id, channel="telegram", chat_id=chat_id, linked_at=now
                )
            )
        await uow.commit()
        return customer.id


async def link_chat(db: Database, customer_id: int, chat_id: str, now: datetime) -> None:
    async with db.uow() as uow:
        uow.session.add(
            ChannelIdentity(
                customer_id=customer_id, channel="telegram", chat_id=chat_id, linked_at=now
            )
        )
        await uow.commit()


async def add_order(
    db: Database,
    external_id: str,
    customer_id: int,
    *,
    delivered_at: datetime | None,
    updated_at: datetime | None = None,
) -> int:
    async with db.uow() as uow:
        stamp = updated_at or delivered_at or datetime(2024, 1, 1, tzinfo=UTC)
        order = Order(
            external_id=external_id,
            customer_id=customer_id,
            total_cents=12990,
            currency="BRL",
            purchased_at=(delivered_at or stamp) - timedelta(days=3),
            delivered_at=delivered_at,
            created_at=stamp,
            updated_at=stamp,
        )
        uow.session.add(order)
        await uow.commit()
        return order.id


async def followups(db: Database) -> list[FollowUp]:
    async with db.uow() as uow:
        rows = list((await uow.session.scalars(select(FollowUp).order_by(FollowUp.id))).all())
        uow.session.expunge_all()  # keep the loaded values readable after the rollback
        return rows
