"""Delivery notices, from the store's news to the customer's chat, on a clock the test moves.

The real stack (``BotStack``: aiogram or python-telegram-bot over HTTP to ``FakeBotApi``,
the engine, the outbox sender) on SQLite and PostgreSQL; orders and their delivery news
come in through ``bot.api.record_orders``, the door every connector, the CSV import and
``/ingest/orders`` share; the scheduler's passes are run by the test. The contact window
is 09:00-20:00 in Sao Paulo (UTC-3).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.api import record_orders
from bot.app import Database
from storage.imports import ORDER_COLUMNS
from storage.models import ChannelIdentity, Customer, DeliveryNotice, FollowUp, Order, Ticket
from tests.builders import Clock
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings

CHAT = 100
TRACKING = "https://rastreio.example.com/BR123456789?lang=pt"
NOON_10 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # Tuesday 10 March, 12:00 in Sao Paulo


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` March 2026 at ``hour``:``minute`` in Sao Paulo, as UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) + timedelta(hours=3)


def order_row(order_id: str, customer: str = "c1", **fields: str) -> dict[str, str]:
    row = {name: "" for name in ORDER_COLUMNS}
    row.update(order_id=order_id, customer_id=customer, purchased_at="2026-03-08 10:00")
    row.update(total="129.90", currency="BRL", customer_name="Ana")
    row.update(fields)
    return row


def make_stack(api: FakeBotApi, db: Database, framework: str, clock: Clock, **kw: Any) -> BotStack:
    values: dict[str, Any] = {
        "default_timezone": "America/Sao_Paulo",
        "contact_window": "09:00-20:00",
        "followup_delay": "24h",
        "default_locale": "en",
        "operator_ids": ["900"],
    }
    values.update(kw)
    return BotStack(api, telegram_settings(api.url, framework, **values), db, clock)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON_10)


@pytest.fixture
async def stack(
    api: FakeBotApi, db: Database, framework: str, clock: Clock
) -> AsyncIterator[BotStack]:
    running = await make_stack(api, db, framework, clock).start()
    try:
        yield running
    finally:
        await running.stop()


class Store:
    """The store's side: news about orders, recorded as a connector records them."""

    def __init__(self, stack: BotStack, clock: Clock) -> None:
        self.stack, self.clock = stack, clock

    async def news(self, order_id: str, customer: str = "c1", **fields: str) -> None:
        fields.setdefault("updated_at", self.clock().isoformat())
        row = order_row(order_id, customer, **fields)
        result = await record_orders(self.stack.db, [row], self.stack.settings, now=self.clock())
        assert not result.rejected, result.rejected

    async def link(self, customer: str = "c1", chat: int = CHAT) -> int:
        async with self.stack.db.uow() as uow:
            found = await uow.session.scalar(
                select(Customer.id).where(Customer.external_id == customer)
            )
            assert found is not None
            uow.session.add(
                ChannelIdentity(
                    customer_id=found, channel="telegram", chat_id=str(chat), linked_at=self.clock()
                )
            )
            await uow.commit()
            return found

    async def tick(self) -> None:
        await self.stack.scheduler.tick()
        await self.stack.flush()


async def notices(db: Database) -> list[tuple[str, str, str | None]]:
    async with db.uow() as uow:
        rows = await uow.session.scalars(select(DeliveryNotice).order_by(DeliveryNotice.id))
        return [(n.kind, n.status, n.skip_reason) for n in rows]


async def test_shipped_out_for_delivery_late_delivered_then_the_survey(
    stack: BotStack, api: FakeBotApi, db: Database, clock: Clock
) -> None:
    store = Store(stack, clock)
    await store.news(
        "o1", estimated_delivery_at="2026-03-12", delivery_status="shipped", tracking_url=TRACKING
    )
    await store.link()
    await store.tick()
    texts = api.texts(str(CHAT))
    assert len(texts) == 1
    assert "has shipped" in texts[0] and TRACKING in texts[0] and "#o1" in texts[0]

    # The same news again (a webhook replayed), and more passes: told once.
    await store.news("o1", delivery_status="shipped", updated_at=NOON_10.isoformat())
    clock.advance(minutes=5)
    await store.tick()
    await store.tick()
    assert len(api.texts(str(CHAT))) == 1

    # Out for delivery at 20:30 on the 11th: past the window, told at 09:00 on the 12th.
    clock.now = local(11, 20, 30)
    await store.news("o1", delivery_status="out_for_delivery")
    await store.tick()
    assert len(api.texts(str(CHAT))) == 1
    clock.now = local(12, 8, 59)
    await store.tick()
    assert len(api.texts(str(CHAT))) == 1
    clock.now = local(12, 9, 0)
    await store.tick()
    assert "out for delivery today" in api.texts(str(CHAT))[-1]

    # Still not delivered when the 12th ends in Sao Paulo: late from 00:00, told at 09:00.
    clock.now = local(12, 23, 30)
    await store.tick()
    clock.now = local(13, 0, 30)
    await store.tick()
    assert len(api.texts(str(CHAT))) == 2
    clock.now = local(13, 9, 0)
    await store.tick()
    delay = api.sent(str(CHAT))[-1]
    assert "has not arrived by the date we promised" in delay.text
    assert delay.callback_data == [f"late:{await order_id(db, 'o1')}"]
    assert await stack.queued_messages() == 3

    # "Talk to us": one ticket about the order, a late delivery; pressed again, no second.
    await stack.deliver(tg.callback(CHAT, delay.callback_data[0]))
    assert "We opened ticket #" in api.texts(str(CHAT))[-1]
    await stack.deliver(tg.callback(CHAT, delay.callback_data[0]))
    assert "is open: our team will answer you here" in api.texts(str(CHAT))[-1]
    async with db.uow() as uow:
        tickets = (await uow.session.scalars(select(Ticket))).all()
    assert [(t.category, t.order_id, t.source) for t in tickets] == [
        ("late_delivery", await order_id(db, "o1"), "complaint")
    ]

    # Delivered at noon on the 13th: no notice; the survey follows the delay, as always.
    clock.now = local(13, 12, 0)
    await store.news("o1", delivery_status="delivered", delivered_at=clock().isoformat())
    before = len(api.texts(str(CHAT)))
    await store.tick()
    assert len(api.texts(str(CHAT))) == before
    clock.now = local(14, 12, 5)
    await store.tick()
    assert len(api.texts(str(CHAT))) == before + 1
    async with db.uow() as uow:
        followup = await uow.session.scalar(select(FollowUp))
    assert followup is not None and followup.status == "sent"
    assert await notices(db) == [
        ("shipped", "sent", None),
        ("out_for_delivery", "sent", None),
        ("delayed", "sent", None),
    ]


async def order_id(db: Database, external_id: str) -> int:
    async with db.uow() as uow:
        found = await uow.session.scalar(select(Order.id).where(Order.external_id == external_id))
        assert found is not None
        return int(found)


async def test_an_opted_out_customer_is_told_nothing_and_the_skip_is_recorded(
    stack: BotStack, api: FakeBotApi, db: Database, clock: Clock
) -> None:
    store = Store(stack, clock)
    await store.news("o1", delivery_status="shipped", tracking_url=TRACKING)
    customer = await store.link()
    async with db.uow() as uow:
        await uow.session.execute(
            update(Customer).where(Customer.id == customer).values(opted_out_at=clock())
        )
        await uow.commit()
    await store.tick()
    clock.now = local(11, 10, 0)
    await store.news("o1", estimated_delivery_at="2026-03-11", delivery_status="out_for_delivery")
    await store.tick()
    clock.now = local(12, 10, 0)
    await store.tick()
    assert api.texts(str(CHAT)) == []
    assert await notices(db) == [
        ("shipped", "skipped", "opted_out"),
        ("out_for_delivery", "skipped", "opted_out"),
        ("delayed", "skipped", "opted_out"),
    ]


async def test_news_overtaken_before_the_window_opens_is_not_told(
    stack: BotStack, api: FakeBotApi, db: Database, clock: Clock
) -> None:
    store = Store(stack, clock)
    clock.now = local(10, 21, 0)  # shipped after the window closed
    await store.news("o1", delivery_status="shipped")
    await store.link()
    await store.tick()
    clock.now = local(11, 7, 0)  # out for delivery before it opens again
    await store.news("o1", delivery_status="out_for_delivery")
    await store.tick()
    assert api.texts(str(CHAT)) == []
    clock.now = local(11, 9, 0)
    await store.tick()
    texts = api.texts(str(CHAT))
    assert len(texts) == 1 and "out for delivery today" in texts[0]
    assert await notices(db) == [
        ("shipped", "skipped", "superseded"),
        ("out_for_delivery", "sent", None),
    ]


async def test_old_news_is_recorded_as_stale_and_never_told(
    stack: BotStack, api: FakeBotApi, db: Database, clock: Clock
) -> None:
    store = Store(stack, clock)
    three_days_ago = (clock() - timedelta(days=3)).isoformat()
    await store.news("o1", delivery_status="shipped", updated_at=three_days_ago)
    await store.news("o2", estimated_delivery_at="2026-03-07", delivery_status="shipped",
                     purchased_at="2026-03-01 10:00", updated_at=three_days_ago)  # fmt: skip
    await store.link()
    await store.tick()
    assert api.texts(str(CHAT)) == []
    assert await notices(db) == [("delayed", "skipped", "stale")]


async def test_a_failed_delivery_says_what_to_do_and_a_later_estimate_is_told(
    stack: BotStack, api: FakeBotApi, db: Database, clock: Clock
) -> None:
    store = Store(stack, clock)
    await store.news(
        "o1", estimated_delivery_at="2026-03-10", delivery_status="delivery_failed",
        tracking_url=TRACKING,
    )  # fmt: skip
    await store.link()
    await store.tick()
    failed = api.sent(str(CHAT))[-1]
    assert "We could not deliver your order" in failed.text and TRACKING in failed.text
    assert failed.callback_data == [f"late:{await order_id(db, 'o1')}"]

    # Late from the 11th; found at 06:00, before the window. The store sets a new date
    # meanwhile: the apology names it.
    clock.now = local(11, 6, 0)
    await store.tick()
    clock.now = local(11, 8, 0)
    await store.news("o1", estimated_delivery_at="2026-03-14")
    clock.now = local(11, 9, 0)
    await store.tick()
    assert "It is now expected by 14/03" in api.texts(str(CHAT))[-1]


async def test_each_notice_can_be_turned_off(
    api: FakeBotApi, db: Database, framework: str, clock: Clock
) -> None:
    off = {"notice_shipped": False, "notice_delay": False}
    stack = await make_stack(api, db, framework, clock, **off).start()
    try:
        store = Store(stack, clock)
        await store.news("o1", estimated_delivery_at="2026-03-09", delivery_status="shipped")
        await store.link()
        await store.tick()
        assert api.texts(str(CHAT)) == []
        clock.advance(hours=1)
        await store.news("o1", delivery_status="out_for_delivery")
        await store.tick()
        assert len(api.texts(str(CHAT))) == 1
        assert await notices(db) == [("out_for_delivery", "sent", None)]
    finally:
        await stack.stop()


async def test_the_notice_is_in_the_customers_language_and_zone(
    stack: BotStack, api: FakeBotApi, db: Database, clock: Clock
) -> None:
    store = Store(stack, clock)
    # 15:00 UTC is 00:00 in Tokyo: outside Kenji's window, although it is noon in Sao Paulo.
    await store.news("o1", "c2", delivery_status="shipped", locale="pt-BR", timezone="Asia/Tokyo")
    await store.link("c2")
    await store.tick()
    assert api.texts(str(CHAT)) == []
    clock.now = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    await store.tick()
    assert api.texts(str(CHAT)) == ["Boa notícia: seu pedido #o1 (08/03) foi enviado!"]


async def test_talk_to_us_for_an_order_that_is_not_theirs_opens_a_ticket_without_it(
    stack: BotStack, api: FakeBotApi, db: Database, clock: Clock
) -> None:
    store = Store(stack, clock)
    await store.news("o1", "c1", delivery_status="shipped")
    await store.news("o9", "c9", delivery_status="shipped")
    await store.link("c1")
    await stack.deliver(tg.callback(CHAT, f"late:{await order_id(db, 'o9')}"))
    async with db.uow() as uow:
        ticket = await uow.session.scalar(select(Ticket))
    assert ticket is not None and (ticket.category, ticket.order_id) == ("late_delivery", None)
