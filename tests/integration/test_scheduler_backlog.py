"""The scheduler against what is already in the database: bad rows and big backlogs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot.app import Database
from bot.scheduling.scheduler import Scheduler
from bot.settings import Settings
from storage.models import Customer, FollowUp, Order
from tests.integration.scheduling_helpers import (
    MovedClock,
    OutboxSurveyStarter,
    add_customer,
    add_order,
    followups,
)

DELIVERED = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)  # 12:00 in Sao Paulo
DUE = DELIVERED + timedelta(hours=24)
END_OF_TIME = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
BACKLOG = 20_000


@pytest.fixture
def settings() -> Settings:
    # The documented defaults: a 24 h delay, 09:00-20:00 in America/Sao_Paulo.
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> MovedClock:
    return MovedClock(DELIVERED + timedelta(minutes=5))


@pytest.fixture
def scheduler(db: Database, settings: Settings, clock: MovedClock) -> Scheduler:
    return Scheduler(db, settings, OutboxSurveyStarter(), clock)


async def test_an_order_delivered_at_the_end_of_time_is_skipped_once_and_others_are_invited(
    db: Database, scheduler: Scheduler, clock: MovedClock, caplog: pytest.LogCaptureFixture
) -> None:
    good = await add_customer(db, "c-good", now=clock(), chat_id="100")
    bad = await add_customer(db, "c-bad", now=clock(), chat_id="101")
    bad_order = await add_order(db, "o-bad", bad, delivered_at=END_OF_TIME, updated_at=clock())
    await add_order(db, "o-good", good, delivered_at=DELIVERED)

    with caplog.at_level(logging.WARNING, logger="postsale.scheduler"):
        first = await scheduler.tick()
        clock.set(DUE)
        second = await scheduler.tick()
        third = await scheduler.tick()

    assert (first.planned, first.skipped, first.errors) == (1, {"bad_date": 1}, 0)
    assert (second.sent, second.skipped, third.skipped) == (1, {}, {})
    rows = {f.order_id: (f.customer_id, f.status, f.skip_reason) for f in await followups(db)}
    assert rows[bad_order] == (bad, "skipped", "bad_date")
    warned = [r.getMessage() for r in caplog.records if "gives no due time" in r.getMessage()]
    assert len(warned) == 1  # logged once, not on every pass
    assert f"order {bad_order} of customer {bad}" in warned[0]


async def test_an_order_stamped_in_the_future_does_not_hide_the_next_imports(
    db: Database, scheduler: Scheduler, clock: MovedClock
) -> None:
    customer = await add_customer(db, "c1", now=clock(), chat_id="100")
    await add_order(db, "o-future", customer, delivered_at=DELIVERED, updated_at=END_OF_TIME)
    await scheduler.tick()

    clock.advance(minutes=1)  # well inside the hour before the next full sweep
    await add_order(db, "o-next", customer, delivered_at=clock(), updated_at=clock())

    assert (await scheduler.tick()).planned == 1


async def _backlog(db: Database, now: datetime, orders: int) -> None:
    """``orders`` delivered orders without follow-ups, as a big import leaves them."""
    async with db.uow() as uow:
        session = uow.session
        customers = [
            {"external_id": f"bulk-{n}", "created_at": now, "timezone": None} for n in range(500)
        ]
        await session.execute(insert(Customer), customers)
        first = await session.scalar(
            Customer.__table__.select()
            .with_only_columns(Customer.id)
            .where(Customer.external_id == "bulk-0")
        )
        assert first is not None
        rows = [
            {
                "external_id": f"bulk-order-{n}",
                "customer_id": first + n % 500,
                "total_cents": 1000,
                "currency": "BRL",
                "purchased_at": now - timedelta(days=3),
                "delivered_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(orders)
        ]
        for start in range(0, orders, 5000):
            await session.execute(insert(Order), rows[start : start + 5000])
        await uow.commit()


async def _due_customers(db: Database, now: datetime, count: int) -> None:
    """Customers with a linked chat whose follow-up is planned and due ``now``."""
    for n in range(count):
        customer = await add_customer(db, f"due-{n}", now=now, chat_id=str(500 + n))
        delivered = now - timedelta(days=1)
        order = await add_order(db, f"due-order-{n}", customer, delivered_at=delivered)
        async with db.uow() as uow:
            uow.session.add(
                FollowUp(order_id=order, customer_id=customer, status="pending", due_at=now)
            )
            await uow.commit()


async def test_due_customers_are_invited_in_one_bounded_pass_beside_a_big_backlog(
    db: Database, settings: Settings, clock: MovedClock
) -> None:
    clock.set(DUE)
    await _due_customers(db, clock(), 5)
    await _backlog(db, clock(), BACKLOG)
    scheduler = Scheduler(db, settings, OutboxSurveyStarter(), clock, batch=500, plan_limit=2000)

    first = await scheduler.tick()

    assert first.sent == 5
    assert first.planned <= 2000 and first.backlog
    passes = [first]
    while passes[-1].backlog:
        passes.append(await scheduler.tick())
    assert sum(p.planned for p in passes) == BACKLOG
    assert len(passes) == BACKLOG // 2000 + 1
