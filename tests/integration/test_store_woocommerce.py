"""WooCommerce's webhooks over real HTTP: the unsigned ping, signatures, replays, ignored
topics and the mapping of order statuses.

The bodies are REST API v3 orders (tests/fixtures/stores/woocommerce_order.json),
signed as WooCommerce signs them (base64 HMAC-SHA256 of the raw body).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import Database
from bot.stores.woocommerce import sign
from tests.integration.store_fixtures import body, fixture, order_and_customer
from tests.integration.store_helpers import StoreEndpoint, count_orders, store_server

SECRET = "wc-webhook-secret-9f8e7d"
ORDER_ID = "woocommerce:727"
TRACKING = "https://www.linkcorreios.com.br/?id=QB987654321BR"


def headers(raw: bytes, topic: str, delivery: str) -> dict[str, str]:
    resource, _, event = topic.partition(".")
    return {
        "X-WC-Webhook-Source": "https://loja.example.com.br/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign(SECRET, raw),
        "X-WC-Webhook-ID": "31",
        "X-WC-Webhook-Delivery-ID": delivery,
    }


async def post(
    store: StoreEndpoint, payload: Any, topic: str = "order.created", delivery: str = "a1b2"
) -> tuple[int, dict[str, Any]]:
    raw = body(payload)
    return await store.post("woocommerce", raw, headers(raw, topic, delivery))


def tracked(link: str) -> list[dict[str, Any]]:
    item = {
        "tracking_provider": "",
        "custom_tracking_provider": "Correios",
        "custom_tracking_link": link,
        "tracking_number": "QB987654321BR",
        "date_shipped": "1795600000",
        "tracking_id": "5e1f0c2a9b",
    }
    return [{"id": 13200, "key": "_wc_shipment_tracking_items", "value": [item]}]


async def test_the_ping_on_saving_the_webhook_is_200(db: Database) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with store_server(db, woocommerce_webhook_secret=SECRET) as store:
        ping = await store.post("woocommerce", b"webhook_id=31", form)
        other, _ = await store.post("woocommerce", b"webhook_id=31&x=1", form)
    assert ping == (200, {"ignored": "ping"})
    assert other == 401  # anything else unsigned is refused
    assert await count_orders(db) == 0


async def test_a_signed_processing_order_is_recorded(db: Database) -> None:
    async with store_server(db, woocommerce_webhook_secret=SECRET) as store:
        status, answer = await post(store, fixture("woocommerce_order.json"))
    assert (status, answer["added"], answer["rejected"]) == (200, 1, 0), answer
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None
    order, customer = stored
    assert customer.external_id == "woocommerce:26"
    assert (customer.name, customer.phone) == ("João Pereira", "+5511987651234")
    assert customer.email == "joao.pereira@example.com"
    assert (order.total_cents, order.currency) == (14990, "BRL")
    # The *_gmt times are UTC, not DEFAULT_TIMEZONE's.
    assert order.purchased_at == datetime(2026, 11, 20, 13, 15, tzinfo=UTC)
    assert order.delivered_at is None


@pytest.mark.parametrize("signature", ["bad", "missing", "other body"])
async def test_a_bad_signature_is_401_and_stores_nothing(db: Database, signature: str) -> None:
    raw = body(fixture("woocommerce_order.json"))
    sent = headers(raw, "order.created", "a1b2")
    if signature == "bad":
        sent["X-WC-Webhook-Signature"] = sign("not the secret", raw)
    elif signature == "missing":
        del sent["X-WC-Webhook-Signature"]
    else:
        sent["X-WC-Webhook-Signature"] = sign(SECRET, body(fixture("woocommerce_order.json", id=1)))
    async with store_server(db, woocommerce_webhook_secret=SECRET) as store:
        status, _ = await store.post("woocommerce", raw, sent)
    assert status == 401
    assert await count_orders(db) == 0


async def test_a_replay_is_stored_once_but_a_shared_delivery_id_is_not_a_replay(
    db: Database,
) -> None:
    # WooCommerce's delivery id is a hash of the webhook id and the second: two orders
    # sent within one second share it, and both must be recorded.
    async with store_server(db, woocommerce_webhook_secret=SECRET) as store:
        first = await post(store, fixture("woocommerce_order.json"), delivery="same")
        replay = await post(store, fixture("woocommerce_order.json"), delivery="same")
        other = await post(store, fixture("woocommerce_order.json", id=728), delivery="same")
    assert first[1]["added"] == 1 and replay == (200, {"duplicate": True})
    assert other[1]["added"] == 1
    assert await count_orders(db) == 2


async def test_an_unknown_topic_is_ignored_and_logged(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="postsale.stores")
    async with store_server(db, woocommerce_webhook_secret=SECRET) as store:
        answer = await post(store, {"id": 93, "name": "Camiseta"}, "product.updated")
    assert answer == (200, {"ignored": "product.updated"})
    assert "'product.updated' ignored" in caplog.text


@pytest.mark.parametrize("status", ["pending", "cancelled", "failed", "refunded"])
async def test_unpaid_or_cancelled_orders_are_not_recorded(db: Database, status: str) -> None:
    async with store_server(db, woocommerce_webhook_secret=SECRET) as store:
        answer = await post(store, fixture("woocommerce_order.json", status=status))
    assert answer == (200, {"ignored": "order.created"})
    assert await count_orders(db) == 0


async def test_completed_is_delivered_at_its_completion(db: Database) -> None:
    done = fixture(
        "woocommerce_order.json",
        status="completed",
        date_completed_gmt="2026-11-23T17:05:00",
        date_modified_gmt="2026-11-23T17:05:01",
    )
    async with store_server(db, woocommerce_webhook_secret=SECRET) as store:
        await post(store, fixture("woocommerce_order.json"), "order.created", "a1")
        status, answer = await post(store, done, "order.updated", "a2")
    assert (status, answer["updated"]) == (200, 1), answer
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None
    assert stored[0].delivered_at == datetime(2026, 11, 23, 17, 5, tzinfo=UTC)


async def test_completed_means_shipped_when_the_store_says_so(db: Database) -> None:
    done = fixture(
        "woocommerce_order.json",
        status="completed",
        meta_data=tracked(TRACKING),
        date_completed_gmt="2026-11-21T12:00:00",
    )
    async with store_server(
        db, woocommerce_webhook_secret=SECRET, woocommerce_completed_status="shipped"
    ) as store:
        status, _ = await post(store, done, "order.updated")
    stored = await order_and_customer(db, ORDER_ID)
    assert status == 200 and stored is not None
    assert stored[0].delivered_at is None


async def test_a_tracking_item_gives_shipped_and_the_url(db: Database) -> None:
    moving = fixture(
        "woocommerce_order.json",
        meta_data=tracked(TRACKING),
        date_modified_gmt="2026-11-21T12:00:00",
    )
    async with store_server(db, woocommerce_webhook_secret=SECRET) as store:
        await post(store, moving, "order.updated")
    stored = await order_and_customer(db, ORDER_ID)
    assert stored is not None
    assert (stored[0].delivery_status, stored[0].tracking_url) == ("shipped", TRACKING)
