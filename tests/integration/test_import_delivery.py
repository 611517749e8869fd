"""The delivery fields of an order (estimate, status, tracking address) at every door:
the CSV file, the Python API, and ``POST /ingest/orders`` over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import update

from bot.api import import_orders_file, record_orders
from bot.app import Database
from bot.entrypoints.http.app import start_http_server
from storage.delivery_status import DELIVERY_STATUSES
from storage.imports import ORDER_COLUMNS
from storage.models import Order
from tests.fakes.telegram_stack import telegram_settings
from tests.integration.test_imports import (
    NOW,
    SETTINGS,
    order,
    orders,
    stored_orders,
    write_csv,
)
from tests.integration.test_ingest_http import SECRET, Endpoint

LATER = NOW + timedelta(hours=5)


def test_the_statuses_others_import_are_the_four_of_the_interface() -> None:
    assert DELIVERY_STATUSES == ("shipped", "out_for_delivery", "delivered", "delivery_failed")
    assert {"estimated_delivery_at", "delivery_status", "tracking_url"} <= set(ORDER_COLUMNS)


async def test_a_csv_file_gives_estimate_status_and_tracking(db: Database, tmp_path: Path) -> None:
    rows = [
        order("o1", estimated_delivery_at="2024-05-08T18:00:00-03:00", delivery_status="SHIPPED",
              tracking_url="https://rastreio.example.com/BR1?x=1"),
        order("o2", estimated_delivery_at="2024-05-08"),  # a date: its start in Sao Paulo
        order("o3", estimated_delivery_at="2024-05-08", timezone="Asia/Tokyo"),
        order("o4", estimated_delivery_at="2024-05-08 12:00", delivery_status="Out_For_Delivery"),
    ]  # fmt: skip
    report = await import_orders_file(
        db, write_csv(tmp_path / "o.csv", rows, ORDER_COLUMNS), SETTINGS, now=NOW
    )
    assert (report.added, report.rejected, report.warned) == (4, 0, 0)
    kept = await stored_orders(db)
    assert kept["o1"].estimated_delivery_at == datetime(2024, 5, 8, 21, tzinfo=UTC)
    assert (kept["o1"].delivery_status, kept["o1"].delivery_status_at) == ("shipped", NOW)
    assert kept["o1"].tracking_url == "https://rastreio.example.com/BR1?x=1"
    assert kept["o2"].estimated_delivery_at == datetime(2024, 5, 8, 3, tzinfo=UTC)
    assert kept["o3"].estimated_delivery_at == datetime(2024, 5, 7, 15, tzinfo=UTC)
    assert kept["o4"].estimated_delivery_at == datetime(2024, 5, 8, 15, tzinfo=UTC)
    assert kept["o4"].delivery_status == "out_for_delivery"
    assert kept["o2"].delivery_status is None and kept["o2"].delivery_status_at is None


async def test_an_unknown_status_or_an_absurd_estimate_rejects_the_row(db: Database) -> None:
    report = await orders(
        db,
        [
            order("o1", delivery_status="lost"),
            order("o2", estimated_delivery_at="2025-07-01"),  # 13 months after NOW
            order("o3", estimated_delivery_at="1999-12-31T12:00:00+00:00"),
            order("o4", estimated_delivery_at="2024-04-20"),  # before the purchase
            order("o5", estimated_delivery_at="next week"),
            order("o6", estimated_delivery_at="2025-05-31", delivery_status="shipped"),
            order("o7", estimated_delivery_at="2024-05-01"),  # the day of purchase
        ],
    )
    assert {r.line: r.reason for r in report.rejections} == {
        2: "unknown delivery_status 'lost' (one of shipped, out_for_delivery, delivered, "
        "delivery_failed)",
        3: "estimated_delivery_at '2025-07-01' is more than a year ahead",
        4: "estimated_delivery_at '1999-12-31T12:00:00+00:00' is before 2000",
        5: "estimated_delivery_at '2024-04-20' is before purchased_at",
        6: "bad estimated_delivery_at 'next week' (expected ISO 8601, e.g. 2024-05-31 14:20)",
    }
    assert set(await stored_orders(db)) == {"o6", "o7"}


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "rastreio.example.com/BR1", "https://", "https://a b.com/",
     "https://t.example/" + "x" * 2040, "javascript:alert(1)"],
)  # fmt: skip
async def test_a_bad_tracking_address_is_dropped_with_a_warning_and_the_row_kept(
    db: Database, url: str
) -> None:
    report = await orders(db, [order("o1", tracking_url=url, delivery_status="shipped")])
    assert (report.added, report.rejected, report.warned) == (1, 0, 1)
    assert "tracking_url" in report.warnings[0].reason and report.warnings[0].line == 2
    stored = (await stored_orders(db))["o1"]
    assert (stored.tracking_url, stored.delivery_status) == (None, "shipped")


async def test_an_empty_field_never_clears_what_is_stored(db: Database) -> None:
    full = order(
        "o1",
        estimated_delivery_at="2024-05-08",
        delivery_status="shipped",
        tracking_url="https://t.example/1",
    )
    await orders(db, [full])
    again = await orders(db, [order("o1")], now=LATER)
    assert (again.updated, again.unchanged) == (0, 1)
    stored = (await stored_orders(db))["o1"]
    assert stored.estimated_delivery_at == datetime(2024, 5, 8, 3, tzinfo=UTC)
    assert (stored.delivery_status, stored.tracking_url) == ("shipped", "https://t.example/1")
    assert stored.delivery_status_at == NOW and stored.updated_at == NOW


async def test_a_delivered_at_means_delivered_whatever_status_is_named(db: Database) -> None:
    report = await orders(
        db,
        [
            order("o1", delivered_at="2024-05-04 09:00"),
            order("o2", delivered_at="2024-05-04 09:00", delivery_status="shipped"),
        ],
    )
    assert [w.reason for w in report.warnings] == [
        "delivery_status 'shipped' with a delivered_at; read as delivered"
    ]
    kept = await stored_orders(db)
    assert kept["o1"].delivery_status == kept["o2"].delivery_status == "delivered"
    assert kept["o1"].delivered_at == datetime(2024, 5, 4, 12, tzinfo=UTC)


async def test_delivered_without_a_time_is_dated_by_updated_at_else_by_now(db: Database) -> None:
    await orders(
        db,
        [
            order("o1", delivery_status="delivered", updated_at="2024-05-06T10:00:00+00:00"),
            order("o2", delivery_status="delivered"),
        ],
    )
    kept = await stored_orders(db)
    assert kept["o1"].delivered_at == kept["o1"].delivery_status_at
    assert kept["o1"].delivered_at == datetime(2024, 5, 6, 10, tzinfo=UTC)
    assert kept["o2"].delivered_at == kept["o2"].delivery_status_at == NOW


async def test_a_known_delivery_time_is_not_replaced_by_the_status_time(db: Database) -> None:
    await orders(db, [order("o1", delivered_at="2024-05-04 09:00")])
    await orders(db, [order("o1", delivery_status="delivered")], now=LATER)
    stored = (await stored_orders(db))["o1"]
    assert stored.delivered_at == datetime(2024, 5, 4, 12, tzinfo=UTC)


async def test_the_status_time_moves_only_when_the_status_changes(db: Database) -> None:
    def shipped(version: str, status: str = "shipped") -> dict[str, str]:
        return order("o1", delivery_status=status, updated_at=version)

    await orders(db, [shipped("2024-05-02T08:00:00+00:00")])
    same = await orders(db, [shipped("2024-05-02T09:00:00+00:00")], now=LATER)
    stored = (await stored_orders(db))["o1"]
    assert stored.delivery_status_at == datetime(2024, 5, 2, 8, tzinfo=UTC)
    assert same.updated == 1 and stored.updated_at == LATER  # only the version moved
    moved = await orders(db, [shipped("2024-05-03T07:30:00+00:00", "out_for_delivery")])
    stored = (await stored_orders(db))["o1"]
    assert moved.updated == 1 and stored.delivery_status == "out_for_delivery"
    assert stored.delivery_status_at == datetime(2024, 5, 3, 7, 30, tzinfo=UTC)


async def test_a_status_change_bumps_updated_at_and_a_replay_does_not(db: Database) -> None:
    await orders(db, [order("o1", delivery_status="shipped")])
    moved = await orders(db, [order("o1", delivery_status="delivery_failed")], now=LATER)
    stored = (await stored_orders(db))["o1"]
    assert moved.updated == 1 and stored.updated_at == LATER
    assert (stored.delivery_status, stored.delivery_status_at) == ("delivery_failed", LATER)
    again = order("o1", delivery_status="delivery_failed")
    replay = await orders(db, [again], now=LATER + timedelta(hours=1))
    assert replay.unchanged == 1


@pytest.mark.parametrize("late", ["shipped", "out_for_delivery", "delivery_failed"])
async def test_a_delivered_order_never_moves_back(db: Database, late: str) -> None:
    await orders(db, [order("o1", delivery_status="delivered")])
    replay = await orders(db, [order("o1", delivery_status=late)], now=LATER)
    assert replay.unchanged == 1
    stored = (await stored_orders(db))["o1"]
    assert (stored.delivery_status, stored.delivery_status_at) == ("delivered", NOW)
    assert stored.delivered_at == NOW and stored.updated_at == NOW


async def test_an_order_delivered_before_statuses_existed_stays_delivered(db: Database) -> None:
    await orders(db, [order("o1", delivered_at="2024-05-04 09:00")])
    async with db.uow() as uow:  # as migration 0007 left orders delivered before it
        await uow.session.execute(update(Order).values(delivery_status=None))
        await uow.commit()
    replay = await orders(db, [order("o1", delivery_status="shipped")], now=LATER)
    assert replay.unchanged == 1
    assert (await stored_orders(db))["o1"].delivery_status is None


async def test_the_python_api_reads_the_delivery_fields(db: Database) -> None:
    item = {
        "order_id": "A-1",
        "customer_id": "C-1",
        "purchased_at": "2024-05-01T10:00:00-03:00",
        "estimated_delivery_at": "2024-05-09",
        "delivery_status": "out_for_delivery",
        "tracking_url": "http://t.example/A-1",
        "updated_at": "2024-05-08T07:00:00-03:00",
    }
    report = await record_orders(db, [item], SETTINGS, now=NOW)
    assert (report.added, report.rejected) == (1, 0)
    stored = (await stored_orders(db))["A-1"]
    assert stored.delivery_status_at == datetime(2024, 5, 8, 10, tzinfo=UTC)
    assert stored.estimated_delivery_at == datetime(2024, 5, 9, 3, tzinfo=UTC)
    assert stored.tracking_url == "http://t.example/A-1"


@pytest.fixture
async def ingest(db: Database) -> AsyncIterator[Endpoint]:
    settings = telegram_settings("http://127.0.0.1:9", "aiogram", ingest_secret=SECRET, http_port=0)
    http = await start_http_server(settings, db, {}, on_orders=lambda: None)
    assert http is not None
    host, port = http.addresses[0][:2]
    async with aiohttp.ClientSession() as client:
        try:
            yield Endpoint(f"http://{host}:{port}/ingest/orders", client)
        finally:
            await http.cleanup()


async def test_ingest_over_http_reads_the_delivery_fields(ingest: Endpoint, db: Database) -> None:
    now = datetime.now(UTC)
    item = {
        "order_id": "H-1",
        "customer_id": "C-1",
        "purchased_at": (now - timedelta(days=2)).isoformat(),
        "estimated_delivery_at": (now + timedelta(days=5)).date().isoformat(),
        "delivery_status": "Shipped",
        "tracking_url": "not a url",
    }
    bad = {**item, "order_id": "H-2", "delivery_status": "?"}
    status, result = await ingest.signed([item, bad])
    assert status == 200 and (result["added"], result["rejected"]) == (1, 1), result
    assert result["rejections"][0]["reason"].startswith("unknown delivery_status '?'")
    assert "tracking_url" in result["warnings"][0]["reason"]
    stored = (await stored_orders(db))["H-1"]
    assert stored.delivery_status == "shipped" and stored.tracking_url is None
    assert stored.estimated_delivery_at is not None and stored.estimated_delivery_at > now
