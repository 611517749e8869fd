"""Shopify's fulfillment events over real HTTP: shipped, delivered, an unknown order, and
the Admin API fetch (a fake Shopify on loopback) that fails once or fails on.

A fulfillment names its order by ``order_id`` only: the stored order completes it, else
the Admin API gives the order when SHOPIFY_SHOP / SHOPIFY_ACCESS_TOKEN are set.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import Database
from tests.fakes.shopify_api import ACCESS_TOKEN, FakeShopifyAdmin
from tests.integration.store_fixtures import fixture, order_and_customer
from tests.integration.store_helpers import count_orders, store_server
from tests.integration.test_store_shopify import ORDER_ID, SECRET, post

TRACKING = "https://rastreamento.correios.com.br/app/index.php?objeto=QB123456789BR"


@pytest.fixture
async def shopify() -> AsyncIterator[FakeShopifyAdmin]:
    fake = FakeShopifyAdmin()
    fake.url = await fake.start()  # type: ignore[attr-defined]
    try:
        yield fake
    finally:
        await fake.close()


def shipment(status: str | None, updated: str, **changes: Any) -> dict[str, Any]:
    return fixture(
        "shopify_fulfillment.json", shipment_status=status, updated_at=updated, **changes
    )


async def test_a_delivered_fulfillment_marks_the_known_order_delivered(db: Database) -> None:
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        await post(store, fixture("shopify_order.json"), "orders/create", "d-1")
        moving = shipment("in_transit", "2026-11-21T09:00:00-03:00")
        _, shipped = await post(store, moving, "fulfillments/create", "d-2")
        arrived = shipment("delivered", "2026-11-24T16:40:00-03:00")
        status, delivered = await post(store, arrived, "fulfillments/update", "d-3")
    assert shipped["updated"] == 1 and status == 200 and delivered["updated"] == 1, delivered
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None
    order, customer = stored
    assert order.delivered_at == datetime(2026, 11, 24, 19, 40, tzinfo=UTC)
    # Completed from the stored order: nothing it knew was lost.
    assert (order.total_cents, order.currency, customer.phone) == (24990, "BRL", "+5511987654321")
    assert await count_orders(db) == 1


async def test_a_fulfillment_gives_status_tracking_and_estimate(db: Database) -> None:
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        await post(store, fixture("shopify_order.json"), "orders/create", "d-1")
        soon = shipment(
            "out_for_delivery",
            "2026-11-23T08:00:00-03:00",
            estimated_delivery_at="2026-11-23T18:00:00-03:00",
        )
        await post(store, soon, "fulfillments/update", "d-2")
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None
    order = stored[0]
    assert (order.delivery_status, order.tracking_url) == ("out_for_delivery", TRACKING)
    assert order.estimated_delivery_at == datetime(2026, 11, 23, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("shipment_status", "expected"),
    [
        ("attempted_delivery", "delivery_failed"),
        ("failure", "delivery_failed"),
        ("label_printed", "shipped"),
        (None, "shipped"),
    ],
)
async def test_shipment_statuses_map_to_delivery_statuses(
    db: Database, shipment_status: str | None, expected: str
) -> None:
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        await post(store, fixture("shopify_order.json"), "orders/create", "d-1")
        await post(
            store,
            shipment(shipment_status, "2026-11-22T10:00:00-03:00"),
            "fulfillments/update",
            "d-2",
        )
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None and stored[0].delivery_status == expected


async def test_a_fulfillment_of_an_unknown_order_is_answered_and_logged(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="postsale.stores")
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        answer = await post(
            store, shipment("delivered", "2026-11-24T16:40:00-03:00"), "fulfillments/update"
        )
    assert answer == (200, {"unknown_orders": [ORDER_ID]})
    assert f"unknown order {ORDER_ID}" in caplog.text
    assert await count_orders(db) == 0


async def test_an_unknown_order_is_fetched_from_the_admin_api(
    db: Database, shopify: FakeShopifyAdmin
) -> None:
    shopify.orders[5512345678901] = fixture("shopify_order.json")
    shopify.fail_next(502)  # Shopify's edge fails once: the retry gets it
    api = {"shopify_api_url": shopify.url, "shopify_access_token": ACCESS_TOKEN}  # type: ignore[attr-defined]
    async with store_server(db, shopify_webhook_secret=SECRET, **api) as store:
        status, answer = await post(
            store, shipment("delivered", "2026-11-24T16:40:00-03:00"), "fulfillments/update"
        )
    assert (status, answer["added"]) == (200, 1), answer
    assert shopify.requests == 2
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None
    assert stored[1].external_id == "shopify:7001234567890"
    assert stored[0].delivered_at == datetime(2026, 11, 24, 19, 40, tzinfo=UTC)


async def test_an_admin_api_that_keeps_failing_is_503_and_the_retry_records(
    db: Database, shopify: FakeShopifyAdmin
) -> None:
    shopify.orders[5512345678901] = fixture("shopify_order.json")
    shopify.fail_next(503, 503)
    api = {"shopify_api_url": shopify.url, "shopify_access_token": ACCESS_TOKEN}  # type: ignore[attr-defined]
    event = shipment("delivered", "2026-11-24T16:40:00-03:00")
    async with store_server(db, shopify_webhook_secret=SECRET, **api) as store:
        status, answer = await post(store, event, "fulfillments/update", "d-9")
        assert status == 503, answer
        assert await count_orders(db) == 0
        # The delivery id was not noted: Shopify's own retry of d-9 is recorded.
        again, recorded = await post(store, event, "fulfillments/update", "d-9")
    assert (again, recorded["added"]) == (200, 1), recorded
    assert await count_orders(db) == 1


async def test_a_wrong_access_token_is_400_not_a_retry_loop(
    db: Database, shopify: FakeShopifyAdmin
) -> None:
    api = {"shopify_api_url": shopify.url, "shopify_access_token": "shpat_wrong"}  # type: ignore[attr-defined]
    async with store_server(db, shopify_webhook_secret=SECRET, **api) as store:
        status, answer = await post(
            store, shipment("delivered", "2026-11-24T16:40:00-03:00"), "fulfillments/update"
        )
    assert status == 400 and "401" in answer["error"], answer
    assert shopify.requests == 1 and await count_orders(db) == 0


def two_parcels(second_status: str | None) -> dict[str, Any]:
    """The order as the Admin API has it: parcel 1 in transit, parcel 2 as given."""
    first = shipment("in_transit", "2026-11-21T09:00:00-03:00")
    second = shipment(second_status, "2026-11-22T09:00:00-03:00", id=4098765432102)
    return fixture("shopify_order.json", fulfillments=[first, second])


async def test_one_delivered_parcel_of_two_leaves_the_order_undelivered(
    db: Database, shopify: FakeShopifyAdmin
) -> None:
    """Parcel 1's event says delivered; the Admin API says parcel 2 is still on its way.
    Then parcel 2 arrives: the order is delivered, at the second parcel's time."""
    api = {"shopify_api_url": shopify.url, "shopify_access_token": ACCESS_TOKEN}  # type: ignore[attr-defined]
    async with store_server(db, shopify_webhook_secret=SECRET, **api) as store:
        await post(store, fixture("shopify_order.json"), "orders/create", "d-1")
        shopify.orders[5512345678901] = two_parcels("in_transit")
        first = shipment("delivered", "2026-11-24T16:40:00-03:00")
        assert (await post(store, first, "fulfillments/update", "d-2"))[0] == 200
        stored = await order_and_customer(db, ORDER_ID)
        assert stored is not None
        assert (stored[0].delivery_status, stored[0].delivered_at) == ("shipped", None)

        shopify.orders[5512345678901] = two_parcels("in_transit")  # parcel 1 not yet updated
        shopify.orders[5512345678901]["fulfillments"][0]["shipment_status"] = "delivered"
        second = shipment("delivered", "2026-11-25T11:00:00-03:00", id=4098765432102)
        assert (await post(store, second, "fulfillments/update", "d-3"))[0] == 200
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None
    assert stored[0].delivery_status == "delivered"
    assert stored[0].delivered_at == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert shopify.requests == 2


async def test_a_delivered_parcel_whose_sibling_the_api_cannot_give_is_retried(
    db: Database, shopify: FakeShopifyAdmin
) -> None:
    """The Admin API is down: 503, so Shopify delivers the event again; nothing recorded."""
    api = {"shopify_api_url": shopify.url, "shopify_access_token": ACCESS_TOKEN}  # type: ignore[attr-defined]
    async with store_server(db, shopify_webhook_secret=SECRET, **api) as store:
        await post(store, fixture("shopify_order.json"), "orders/create", "d-1")
        shopify.fail_next(503, 503, 503)
        status, _ = await post(
            store, shipment("delivered", "2026-11-24T16:40:00-03:00"), "fulfillments/update", "d-2"
        )
    assert status == 503
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None and stored[0].delivered_at is None
