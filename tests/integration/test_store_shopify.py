"""Shopify's webhooks over real HTTP: signatures, replays, ignored topics, order mapping.

The bodies are Shopify's REST Admin API 2025-01 order objects (tests/fixtures/stores/),
signed as Shopify signs them (base64 HMAC-SHA256 of the raw body).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import Database
from bot.stores.shopify import sign
from tests.integration.store_fixtures import body, fixture, order_and_customer
from tests.integration.store_helpers import StoreEndpoint, count_orders, store_server

SECRET = "shpss_test_webhook_secret_42"
ORDER_ID = "shopify:5512345678901"


def headers(raw: bytes, topic: str = "orders/create", delivery: str = "d-1") -> dict[str, str]:
    return {
        "X-Shopify-Hmac-Sha256": sign(SECRET, raw),
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": delivery,
        "X-Shopify-Shop-Domain": "loja-teste.myshopify.com",
        "X-Shopify-API-Version": "2025-01",
    }


async def post(
    store: StoreEndpoint, payload: Any, topic: str = "orders/create", delivery: str = "d-1"
) -> tuple[int, dict[str, Any]]:
    raw = body(payload)
    return await store.post("shopify", raw, headers(raw, topic, delivery))


async def test_a_signed_order_is_recorded_with_its_customer(db: Database) -> None:
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        status, answer = await post(store, fixture("shopify_order.json"))
    assert (status, answer["added"], answer["rejected"]) == (200, 1, 0), answer
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None
    order, customer = stored
    assert customer.external_id == "shopify:7001234567890"
    assert (customer.name, customer.phone) == ("Ana Souza", "+5511987654321")
    assert (customer.email, customer.locale) == ("ana.souza@example.com", "pt-BR")
    assert (order.total_cents, order.currency) == (24990, "BRL")
    assert order.purchased_at == datetime(2026, 11, 20, 13, 15, tzinfo=UTC)
    assert order.source_updated_at == datetime(2026, 11, 20, 13, 15, 2, tzinfo=UTC)
    assert order.delivered_at is None
    assert store.woken == 1


@pytest.mark.parametrize("signature", ["bad", "missing", "other body", "not base64"])
async def test_a_bad_signature_is_401_and_stores_nothing(db: Database, signature: str) -> None:
    raw = body(fixture("shopify_order.json"))
    sent = headers(raw)
    if signature == "bad":
        sent["X-Shopify-Hmac-Sha256"] = sign("another secret", raw)
    elif signature == "missing":
        del sent["X-Shopify-Hmac-Sha256"]
    elif signature == "other body":
        sent["X-Shopify-Hmac-Sha256"] = sign(SECRET, body(fixture("shopify_order.json", id=1)))
    else:
        sent["X-Shopify-Hmac-Sha256"] = "%%%not-base64%%%"
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        status, answer = await store.post("shopify", raw, sent)
    assert status == 401, answer
    assert await count_orders(db) == 0


async def test_the_same_delivery_twice_is_stored_once(db: Database) -> None:
    payload = fixture("shopify_order.json")
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        first = await post(store, payload, delivery="same-id")
        second = await post(store, payload, delivery="same-id")
    assert first[0] == 200 and first[1]["added"] == 1
    assert second == (200, {"duplicate": True})
    assert await count_orders(db) == 1


async def test_an_unknown_topic_is_ignored_and_logged(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="postsale.stores")
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        answer = await post(store, {"id": 8123456789, "title": "Caneca"}, "products/update")
    assert answer == (200, {"ignored": "products/update"})
    assert "'products/update' ignored" in caplog.text
    assert await count_orders(db) == 0


async def test_a_body_that_is_not_an_order_is_400(db: Database) -> None:
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        status, answer = await post(store, {"name": "#1042"})
        not_json = b"{not json"
        status2, _ = await store.post("shopify", not_json, headers(not_json, delivery="d-2"))
    assert (status, status2) == (400, 400)
    assert "id" in answer["error"]
    assert await count_orders(db) == 0


async def test_a_guest_checkout_is_known_by_its_email(db: Database) -> None:
    payload = fixture("shopify_order.json", customer=None, email="Guest@Example.com")
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        status, _ = await post(store, payload)
    assert status == 200
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None and stored[1].external_id == "shopify:email:guest@example.com"


async def test_a_cancelled_order_is_not_recorded(db: Database) -> None:
    payload = fixture("shopify_order.json", cancelled_at="2026-11-20T11:00:00-03:00")
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        answer = await post(store, payload, "orders/updated")
    assert answer == (200, {"ignored": "orders/updated"})
    assert await count_orders(db) == 0


async def test_an_older_update_arriving_late_does_not_roll_back(db: Database) -> None:
    delivered = fixture(
        "shopify_order.json",
        updated_at="2026-11-25T15:00:00-03:00",
        fulfillments=[
            fixture(
                "shopify_fulfillment.json",
                shipment_status="delivered",
                updated_at="2026-11-25T14:30:00-03:00",
            )
        ],
    )
    async with store_server(db, shopify_webhook_secret=SECRET) as store:
        await post(store, delivered, "orders/updated", "d-new")
        status, late = await post(store, fixture("shopify_order.json"), "orders/create", "d-old")
    assert status == 200 and late["stale"] == 1, late
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None
    assert stored[0].delivered_at == datetime(2026, 11, 25, 17, 30, tzinfo=UTC)
