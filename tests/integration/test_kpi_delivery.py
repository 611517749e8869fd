"""The delivery KPIs on hand-built orders whose answers are worked out here (SQLite and
PostgreSQL), with customers in zones whose dates differ from UTC's.

The period is March 2026 (UTC). Estimates are stored as the import stores a date: that
day's 00:00 in the customer's zone.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from bot.app import Database
from bot.operators.kpi_view import summary_text
from storage.models import Customer, Order, SurveyResponse
from storage.read.kpi import compute_kpis
from storage.read.sla import SlaSummary

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 4, 1, tzinfo=UTC)
NOW = datetime(2026, 4, 10, tzinfo=UTC)
_keys = itertools.count()
NO_SLA = SlaSummary(0, 0, 0, 0, None, None, None)


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# (customer's zone, estimate as stored, delivered at, answers as (kind, score))
ORDERS: list[tuple[str | None, datetime | None, datetime | None, list[tuple[str, int]]]] = [
    # Sao Paulo (no zone of its own: DEFAULT_TIMEZONE), due on the 10th (03:00 UTC):
    # 01:00 UTC on the 11th is 22:00 on the 10th there, on time; 03:30 UTC is late.
    (None, utc(10, 3), utc(11, 1), [("csat", 5), ("nps", 10)]),
    (None, utc(10, 3), utc(11, 3, 30), [("csat", 2), ("nps", 0)]),
    # Tokyo, due on the 10th (15:00 UTC on the 9th): 10:00 UTC on the 10th is 19:00
    # there, on time though the UTC date is past the estimate's; 16:00 UTC is late.
    ("Asia/Tokyo", utc(9, 15), utc(10, 10), [("csat", 4), ("nps", 9)]),
    ("Asia/Tokyo", utc(9, 15), utc(10, 16), [("csat", 1)]),
    # Madrid on summer time from the 29th (+02:00), due on the 30th (22:00 UTC on the
    # 29th): 21:30 UTC on the 30th is 23:30 there, on time; 22:30 UTC is the 31st, late.
    ("Europe/Madrid", utc(29, 22), utc(30, 21, 30), [("nps", 6)]),
    ("Europe/Madrid", utc(29, 22), utc(30, 22, 30), [("csat", 2)]),
    # Early, days before the estimate: on time.
    ("America/Manaus", utc(20, 4), utc(15, 12), []),
    # Delivered without an estimate: delivered, in neither; its answers in neither.
    (None, None, utc(12, 12), [("csat", 1), ("nps", 0)]),
    # Not in the period: delivered in February, or not delivered yet.
    (None, utc(2, 3), utc(27, 12, month=2), [("csat", 1)]),
    (None, utc(30, 3), None, [("csat", 1)]),
]


async def build(db: Database) -> None:
    async with db.uow() as uow:
        s = uow.session
        for n, (zone, estimate, delivered, answers) in enumerate(ORDERS):
            customer = Customer(external_id=f"c{n}", timezone=zone, created_at=utc(1, 0, month=1))
            s.add(customer)
            await s.flush()
            order = Order(
                external_id=f"o{n}",
                customer_id=customer.id,
                purchased_at=utc(1, 12, month=2),
                estimated_delivery_at=estimate,
                delivered_at=delivered,
                delivery_status="delivered" if delivered else "shipped",
                created_at=utc(1, 12, month=2),
                updated_at=utc(1, 12, month=2),
            )
            s.add(order)
            await s.flush()
            s.add_all(
                SurveyResponse(
                    dedup_key=f"d{next(_keys)}",
                    customer_id=customer.id,
                    order_id=order.id,
                    kind=kind,
                    score=score,
                    source="import",
                    answered_at=utc(28, 12),
                )
                for kind, score in answers
            )
        await uow.commit()


async def delivery(db: Database, zone: str = "America/Sao_Paulo", **period: Any) -> Any:
    since, until = period.get("since", SINCE), period.get("until", UNTIL)
    async with db.uow() as uow:
        figures = await compute_kpis(uow.session, since, until, NOW, default_zone=zone)
    return figures["delivery"]


async def test_on_time_and_late_are_read_on_the_customers_calendar(db: Database) -> None:
    await build(db)
    assert await delivery(db) == {
        "delivered": 8,
        "on_time": 4,
        "late": 3,
        "on_time_pct": 57.1,  # 4 of 7 with an estimate
        "csat_on_time": 4.5,  # 5, 4
        "csat_late": 1.7,  # 2, 1, 2
        "nps_on_time": 33.3,  # 10, 9, 6: 2 promoters, 1 detractor of 3
        "nps_late": -100.0,  # 0
    }


async def test_customers_without_a_zone_are_dated_in_the_default_zone(db: Database) -> None:
    await build(db)
    # In UTC the Sao Paulo order delivered at 01:00 on the 11th is a day late.
    figures = await delivery(db, zone="UTC")
    assert (figures["on_time"], figures["late"]) == (3, 4)
    assert (figures["csat_on_time"], figures["csat_late"]) == (4.0, 2.5)  # 4 | 5, 2, 1, 2
    assert (figures["nps_on_time"], figures["nps_late"]) == (0.0, 0.0)  # 9, 6 | 10, 0


async def test_all_time_counts_every_delivered_order(db: Database) -> None:
    await build(db)
    figures = await delivery(db, since=None, until=None)
    assert (figures["delivered"], figures["on_time"], figures["late"]) == (9, 5, 3)
    assert figures["csat_on_time"] == 3.3  # 5, 4, 1 (February's order, on time)


async def test_a_figure_without_data_is_null_never_zero(db: Database) -> None:
    assert await delivery(db) == {
        "delivered": 0,
        "on_time": 0,
        "late": 0,
        "on_time_pct": None,
        "csat_on_time": None,
        "csat_late": None,
        "nps_on_time": None,
        "nps_late": None,
    }
    await build(db)
    only_unestimated = await delivery(db, since=utc(12, 0), until=utc(13, 0))
    assert only_unestimated == {
        "delivered": 1,
        "on_time": 0,
        "late": 0,
        "on_time_pct": None,
        "csat_on_time": None,
        "csat_late": None,
        "nps_on_time": None,
        "nps_late": None,
    }
    early = await delivery(db, since=utc(15, 0), until=utc(16, 0))
    assert (early["on_time_pct"], early["csat_on_time"], early["nps_late"]) == (100.0, None, None)


async def test_kpi_in_the_chat_shows_the_delivery_line_or_says_why_not(db: Database) -> None:
    def chat(figures: dict[str, Any], lang: str = "en") -> str:
        return summary_text(
            "30d", figures, figures, NO_SLA, NO_SLA, lang=lang, currency="BRL",
            hours="mon-fri 09:00-18:00", first_target="4h", resolution_target="2d",
        )  # fmt: skip

    async with db.uow() as uow:
        empty = await compute_kpis(uow.session, SINCE, UNTIL, NOW)
    assert "Delivered" not in chat(empty) and "Entregues" not in chat(empty, "pt-BR")
    await build(db)
    async with db.uow() as uow:
        full = await compute_kpis(uow.session, SINCE, UNTIL, NOW)
        unestimated = await compute_kpis(uow.session, utc(12, 0), utc(13, 0), NOW)
    assert (
        "Delivered 8 · on time 57.1% = (4 of 7) · CSAT on time 4.50, late 1.70 · "
        "NPS on time 33.3 =, late -100.0 =" in chat(full)
    )
    assert "Entregues 1 · sem previsões de entrega" in chat(unestimated, "pt-BR")
