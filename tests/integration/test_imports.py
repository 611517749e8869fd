"""Importing orders, answers and spend: rejections with lines, idempotence, time zones."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.api import import_orders_file, order_options, record_orders
from bot.app import Database
from bot.settings import load_settings
from storage.imports import (
    ORDER_COLUMNS,
    ImportReport,
    import_orders,
    import_responses,
    import_spend,
    numbered,
    replaced_lines,
)
from storage.models import Customer, MarketingSpend, Order, SurveyResponse

SP = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
SETTINGS = load_settings(default_timezone="America/Sao_Paulo", _env_file=None)


def order(order_id: str, customer_id: str = "c1", **fields: str) -> dict[str, str]:
    row = {name: "" for name in ORDER_COLUMNS}
    row.update(order_id=order_id, customer_id=customer_id, purchased_at="2024-05-01 10:00")
    row.update(fields)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


async def orders(db: Database, rows: list[dict[str, str]], now: datetime = NOW) -> ImportReport:
    options = order_options(SETTINGS)
    replaced = replaced_lines(numbered(rows, 2))
    return await import_orders(db.sessions, numbered(rows, 2), options, now=now, replaced=replaced)


async def stored_orders(db: Database) -> dict[str, Order]:
    async with db.uow() as uow:
        return {o.external_id: o for o in await uow.session.scalars(select(Order))}


async def stored_customers(db: Database) -> dict[str, Customer]:
    async with db.uow() as uow:
        return {c.external_id: c for c in await uow.session.scalars(select(Customer))}


async def test_bad_rows_are_rejected_with_line_and_reason_and_good_rows_kept(
    db: Database, tmp_path: Path
) -> None:
    rows = [
        order("o1", total="129.90", currency="BRL", phone="+55 11 91234-5678"),
        order("", customer_id="c2"),
        order("o3", customer_id=""),
        order("o4", purchased_at="2024-02-30"),
        order("o5", total="-3.00"),
        order("o6", total="12,50"),
        order("o7", currency="R$"),
        order("o8", timezone="Mars/Base"),
        order("o9", locale="xx"),
        order("o10", delivered_at="soon"),
        order("o11", customer_id="c2", delivered_at="2024-05-03T09:00:00-03:00"),
    ]
    path = write_csv(tmp_path / "orders.csv", rows, ORDER_COLUMNS)
    report = await import_orders_file(db, path, SETTINGS, now=NOW)
    assert (report.added, report.updated, report.unchanged, report.rejected) == (2, 0, 0, 9)
    reasons = {r.line: r.reason for r in report.rejections}
    assert reasons == {
        3: "missing order_id",
        4: "missing customer_id",
        5: "bad purchased_at '2024-02-30' (expected ISO 8601, e.g. 2024-05-31 14:20)",
        6: "negative total '-3.00'",
        7: "total '12,50' is not a decimal number (e.g. 129.90)",
        8: "unknown currency 'R$' (expected an ISO 4217 code such as BRL)",
        9: "unknown time zone 'Mars/Base' (an IANA name such as America/Sao_Paulo)",
        10: "unknown locale 'xx' (one of pt-BR, en, es, ca)",
        11: "bad delivered_at 'soon' (expected ISO 8601, e.g. 2024-05-31 14:20)",
    }
    kept = await stored_orders(db)
    assert set(kept) == {"o1", "o11"}
    assert kept["o1"].total_cents == 12990 and kept["o1"].currency == "BRL"
    assert kept["o1"].delivered_at is None
    assert kept["o11"].delivered_at == datetime(2024, 5, 3, 12, tzinfo=UTC)
    assert (await stored_customers(db))["c1"].phone == "+5511912345678"


async def test_a_time_without_offset_is_read_in_the_default_time_zone(db: Database) -> None:
    await orders(db, [order("o1", purchased_at="2024-05-01 10:00", delivered_at="2024-05-04")])
    stored = (await stored_orders(db))["o1"]
    assert stored.purchased_at == datetime(2024, 5, 1, 13, tzinfo=UTC)  # 10:00 in Sao Paulo
    assert stored.delivered_at == datetime(2024, 5, 4, 3, tzinfo=UTC)


async def test_importing_the_same_rows_again_changes_nothing(db: Database) -> None:
    rows = [order(f"o{n}", f"c{n % 3}", total=f"{n}.50", phone="11987654321") for n in range(7)]
    first = await orders(db, rows)
    assert (first.added, first.updated, first.unchanged) == (7, 0, 0)
    before = await stored_orders(db)
    again = await orders(db, rows, now=NOW + timedelta(hours=1))
    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 0, 7, 0)
    after = await stored_orders(db)
    assert {k: v.updated_at for k, v in after.items()} == {
        k: v.updated_at for k, v in before.items()
    }
    assert len(await stored_customers(db)) == 3


async def test_a_changed_order_counts_as_updated_and_only_it_moves_updated_at(
    db: Database,
) -> None:
    rows = [order("o1", total="10.00"), order("o2", total="20.00")]
    await orders(db, rows)
    rows[1]["delivered_at"] = "2024-05-05 08:00"
    later = NOW + timedelta(hours=2)
    report = await orders(db, rows + [order("o3")], now=later)
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    stored = await stored_orders(db)
    assert stored["o1"].updated_at == NOW
    assert stored["o2"].updated_at == later
    assert stored["o2"].created_at == NOW


async def test_the_same_order_twice_keeps_the_last_row_and_names_both_lines(
    db: Database,
) -> None:
    rows = [order("o1", total="1.00"), order("o2"), order("o1", total="2.00")]
    report = await orders(db, rows)
    assert (report.added, report.updated, report.rejected) == (2, 0, 1)
    assert [(r.line, r.reason) for r in report.rejections] == [
        (2, "order_id repeated on line 4, the row kept")
    ]
    assert (await stored_orders(db))["o1"].total_cents == 200
    again = await orders(db, rows)
    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 1)


async def test_empty_fields_keep_what_is_known_and_the_forgotten_stay_forgotten(
    db: Database,
) -> None:
    await orders(db, [order("o1", customer_name="Ana", email="ana@example.com")])
    await orders(db, [order("o2", customer_name="", email="")])
    assert (await stored_customers(db))["c1"].email == "ana@example.com"
    async with db.uow() as uow:
        customer = await uow.session.scalar(select(Customer).where(Customer.external_id == "c1"))
        assert customer is not None
        customer.name = customer.email = None
        customer.anonymised_at = NOW
        await uow.commit()
    await orders(db, [order("o3", customer_name="Ana", email="ana@example.com")])
    forgotten = (await stored_customers(db))["c1"]
    assert (forgotten.name, forgotten.email) == (None, None)


async def test_an_invalid_phone_is_a_warning_and_the_order_is_kept(db: Database) -> None:
    report = await orders(db, [order("o1", phone="123")])
    assert report.added == 1 and report.rejected == 0
    assert [(w.line, w.reason) for w in report.warnings] == [
        (2, "phone '123' is not a valid number; imported without it")
    ]


async def test_the_http_ingest_service_reuses_the_same_upsert(db: Database) -> None:
    items: list[dict[str, Any]] = [
        {"order_id": "o1", "customer_id": "c1", "purchased_at": "2024-05-01T10:00:00Z"},
        {"order_id": "o2", "customer_id": "c1", "purchased_at": "", "total": 12.5},
    ]
    result = await record_orders(db, items, SETTINGS, now=NOW)
    assert (result.added, result.updated, result.rejected) == (1, 0, 1)
    assert result.as_json()["rejections"] == [{"line": 2, "reason": "missing purchased_at"}]
    again = await record_orders(db, items[:1], SETTINGS, now=NOW)
    assert (again.added, again.unchanged) == (0, 1)


def answer(**fields: str) -> dict[str, str]:
    row = {"response_id": "", "customer_id": "c1", "order_id": "o1", "kind": "nps"}
    row.update(score="9", comment="", answered_at="2024-05-10 09:00")
    row.update(fields)
    return row


async def test_answers_are_idempotent_and_unknown_ids_are_rejected(db: Database) -> None:
    await orders(db, [order("o1"), order("o2", customer_id="c2")])
    rows = [
        answer(response_id="r1"),
        answer(kind="csat", score="4", comment="ok"),
        answer(customer_id="nobody"),
        answer(order_id="o404"),
        answer(order_id="o2"),
        answer(kind="ces"),
        answer(score="11"),
        answer(kind="csat", score="0"),
        answer(score="nine"),
        answer(customer_id="", order_id="o2", score="3"),
        answer(customer_id="", order_id=""),
    ]
    report = await import_responses(db.sessions, numbered(rows, 2), default_tz=SP)
    assert (report.added, report.rejected) == (3, 8)
    assert {r.line: r.reason for r in report.rejections} == {
        4: "unknown customer_id 'nobody'",
        5: "unknown order_id 'o404'",
        6: "order 'o2' is not customer 'c1''s",
        7: "unknown kind 'ces' (nps or csat)",
        8: "nps score 11 out of range 0-10",
        9: "csat score 0 out of range 1-5",
        10: "nps score 'nine' is not a whole number",
        12: "missing customer_id (or order_id)",
    }
    again = await import_responses(db.sessions, numbered(rows, 2), default_tz=SP)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    rows[0]["score"] = "10"
    changed = await import_responses(db.sessions, numbered(rows[:2], 2), default_tz=SP)
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 1)
    async with db.uow() as uow:
        stored = (await uow.session.scalars(select(SurveyResponse))).all()
    customers = await stored_customers(db)
    assert {r.source for r in stored} == {"import"}
    by_order_only = [r for r in stored if r.score == 3]
    assert by_order_only[0].customer_id == customers["c2"].id
    assert sorted(r.answered_at for r in stored)[0] == datetime(2024, 5, 10, 12, tzinfo=UTC)


async def test_spend_is_upserted_on_month_and_channel(db: Database) -> None:
    rows = [
        {"month": "2024-05", "channel": "ads", "amount": "1000.00", "currency": "BRL"},
        {"month": "2024-05", "channel": "social", "amount": "250.50", "currency": "brl"},
        {"month": "2024-13", "channel": "ads", "amount": "1", "currency": "BRL"},
        {"month": "2024-06", "channel": "ads", "amount": "-1", "currency": "BRL"},
    ]
    report = await import_spend(db.sessions, numbered(rows, 2), default_tz=SP)
    assert (report.added, report.rejected) == (2, 2)
    assert [r.line for r in report.rejections] == [4, 5]
    rows[0]["amount"] = "1200.00"
    again = await import_spend(db.sessions, numbered(rows, 2), default_tz=SP)
    assert (again.added, again.updated, again.unchanged) == (0, 1, 1)
    async with db.uow() as uow:
        spend = {s.channel: s for s in await uow.session.scalars(select(MarketingSpend))}
    assert spend["ads"].amount_cents == 120000 and spend["social"].currency == "BRL"
    assert spend["ads"].month_start == datetime(2024, 5, 1, 3, tzinfo=UTC)
