"""Small builders of real rows for tests (no fakes: they write to the database)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from bot.app import Database
from bot.channels.port import Incoming
from flows.events import Event
from storage.models import ChannelIdentity, Customer, FollowUp, Order

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
_update_ids = itertools.count(1000)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def customer_with_delivered_order(
    db: Database,
    external_id: str = "c-1",
    *,
    chat_id: str | None = "100",
    channel: str = "telegram",
    locale: str | None = None,
    now: datetime = T0,
    phone: str | None = None,
    orders: int = 1,
) -> tuple[int, list[int], int | None]:
    """A customer with ``orders`` delivered orders, linked to ``chat_id`` when given.

    Returns (customer id, order ids, follow-up id of the newest order, status "sent").
    """
    async with db.uow() as uow:
        s = uow.session
        customer = Customer(
            external_id=external_id, name="Ana", locale=locale, phone=phone, created_at=now
        )
        s.add(customer)
        await s.flush()
        order_ids = []
        for n in range(orders):
            order = Order(
                external_id=f"{external_id}-o{n + 1}",
                customer_id=customer.id,
                total_cents=10000,
                currency="BRL",
                purchased_at=now - timedelta(days=10 - n),
                delivered_at=now - timedelta(days=2 - n * 0.1),
                created_at=now,
                updated_at=now,
            )
            s.add(order)
            await s.flush()
            order_ids.append(order.id)
        if chat_id is not None:
            s.add(
                ChannelIdentity(
                    customer_id=customer.id,
                    channel=channel,
                    chat_id=chat_id,
                    user_id=chat_id,
                    linked_at=now,
                )
            )
        followup = FollowUp(
            order_id=order_ids[-1], customer_id=customer.id, status="sent", due_at=now, sent_at=now
        )
        s.add(followup)
        await s.flush()
        await uow.commit()
        return customer.id, order_ids, followup.id


def incoming(
    event: Event,
    chat_id: str = "100",
    *,
    update_id: str | None = None,
    language_code: str | None = None,
    chat_type: str = "private",
    user_id: str | None = None,
) -> Incoming:
    return Incoming(
        channel="telegram",
        update_id=update_id or str(next(_update_ids)),
        chat_id=chat_id,
        user_id=user_id or chat_id,
        chat_type=chat_type,
        event=event,
        language_code=language_code,
    )
