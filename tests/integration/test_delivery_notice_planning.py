"""Planning delivery notices in SQL (``storage.delivery_notices``), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import Database
from bot.scheduling.notices import NoticeWatch
from bot.scheduling.report import TickReport
from bot.settings import Settings
from storage import delivery_notices as dn
from storage.models import Customer, DeliveryNotice, Order

NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
AGE = timedelta(days=2)


async def add(db: Database, external_id: str, zone: str | None = None, **fields: object) -> int:
    async with db.uow() as uow:
        customer = Customer(external_id=f"c-{external_id}", created_at=NOW, timezone=zone)
        uow.session.add(customer)
        await uow.session.flush()
        order = Order(
            external_id=external_id, customer_id=customer.id, total_cents=100, currency="BRL",
            purchased_at=NOW - timedelta(days=5), created_at=NOW, updated_at=NOW, **fields,
        )  # fmt: skip
        uow.session.add(order)
        await uow.commit()
        return order.id


async def planned(db: Database) -> list[tuple[int, str, str, datetime]]:
    async with db.uow() as uow:
        rows = await uow.session.scalars(select(DeliveryNotice).order_by(DeliveryNotice.id))
        return [(n.order_id, n.kind, n.status, n.due_at) for n in rows]


async def plan_all(db: Database, now: datetime = NOW) -> None:
    async with db.uow() as uow:
        await dn.plan_status_notices(
            uow.session, now, kinds=("shipped", "delivery_failed"), max_age=AGE, limit=100
        )
        await dn.plan_delay_notices(uow.session, now, max_age=AGE, default_tz=SAO_PAULO, limit=100)
        await uow.commit()


def test_an_order_is_late_from_the_start_of_the_day_after_its_estimate_where_the_customer_is() -> (
    None
):
    estimate = datetime(2026, 3, 12, 3, tzinfo=UTC)  # the 12th, 00:00 in Sao Paulo
    assert dn.day_after(estimate, SAO_PAULO) == datetime(2026, 3, 13, 3, tzinfo=UTC)
    # The same instant is the 12th, 12:00 in Tokyo: late from the 13th there, 15:00 UTC on the 12th.
    assert dn.day_after(estimate, ZoneInfo("Asia/Tokyo")) == datetime(2026, 3, 12, 15, tzinfo=UTC)
    # Madrid moves to summer time on the 29th: its day after the 28th starts at 23:00 UTC.
    madrid = datetime(2026, 3, 28, 10, tzinfo=UTC)
    assert dn.day_after(madrid, ZoneInfo("Europe/Madrid")) == datetime(2026, 3, 28, 23, tzinfo=UTC)


async def test_status_news_of_the_kinds_asked_is_planned_once_however_often_read(
    db: Database,
) -> None:
    shipped = await add(db, "o1", delivery_status="shipped", delivery_status_at=NOW)
    await add(db, "o2", delivery_status="out_for_delivery", delivery_status_at=NOW)  # not asked
    await add(db, "o3", delivery_status="shipped", delivery_status_at=NOW - timedelta(days=3))
    await add(db, "o4", delivery_status="delivered", delivery_status_at=NOW)
    await plan_all(db)
    await plan_all(db, NOW + timedelta(minutes=1))
    assert await planned(db) == [(shipped, "shipped", "pending", NOW)]


async def test_two_processes_planning_at_once_plan_each_notice_once(db: Database) -> None:
    for n in range(20):
        await add(db, f"o{n}", delivery_status="delivery_failed", delivery_status_at=NOW)
    await asyncio.gather(plan_all(db), plan_all(db))
    rows = await planned(db)
    assert len(rows) == 20 and len({order for order, *_ in rows}) == 20


async def test_a_delay_is_planned_once_the_estimated_day_is_over_unless_delivered(
    db: Database,
) -> None:
    passed = datetime(2026, 3, 9, 3, tzinfo=UTC)  # the 9th in Sao Paulo
    late = await add(db, "late", estimated_delivery_at=passed, delivery_status="shipped")
    await add(
        db, "today", estimated_delivery_at=datetime(2026, 3, 10, 3, tzinfo=UTC),
        delivery_status="shipped",
    )  # fmt: skip
    await add(db, "came", estimated_delivery_at=passed, delivered_at=passed)
    await add(db, "said", estimated_delivery_at=passed, delivery_status="delivered")
    await add(db, "untold", estimated_delivery_at=passed)  # its store never reports shipping
    tokyo = await add(
        db, "tokyo", "Asia/Tokyo", estimated_delivery_at=NOW - timedelta(hours=1),
        delivery_status="out_for_delivery",
    )  # fmt: skip
    old = await add(
        db, "old", estimated_delivery_at=NOW - timedelta(days=3, hours=12),
        delivery_status="delivery_failed",
    )  # fmt: skip
    await plan_all(db)
    assert await planned(db) == [
        (old, "delayed", "skipped", datetime(2026, 3, 8, 3, tzinfo=UTC)),
        (late, "delayed", "pending", datetime(2026, 3, 10, 3, tzinfo=UTC)),
        (tokyo, "delayed", "pending", datetime(2026, 3, 10, 15, tzinfo=UTC)),
    ]


class NoChat:
    """The messenger's answer for customers no channel reaches (none is linked here)."""

    async def send_notice(self, *args: object) -> bool:
        return False


async def test_a_pass_plans_more_notices_than_one_batch(db: Database) -> None:
    for n in range(12):
        await add(db, f"o{n}", delivery_status="shipped", delivery_status_at=NOW)
    settings = Settings(_env_file=None, default_timezone="America/Sao_Paulo")  # type: ignore[call-arg]
    report = TickReport()
    await NoticeWatch(db, settings, NoChat(), batch=5).tick(NOW, report)
    assert report.notices_skipped == {"no_chat": 12}
    assert [status for _, _, status, _ in await planned(db)] == ["skipped"] * 12
