"""The rows the Shopify and WooCommerce connectors make of their platforms' JSON.

The delivery fields (``delivery_status``, ``tracking_url``, ``estimated_delivery_at``)
are checked here on the rows themselves; the integration tests check what is stored.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.stores import shopify_orders, woocommerce_orders
from tests.integration.store_fixtures import fixture

TRACKING = "https://rastreamento.correios.com.br/app/index.php?objeto=QB123456789BR"


def fulfilled(*shipments: tuple[str | None, str]) -> dict[str, Any]:
    items = [
        fixture("shopify_fulfillment.json", shipment_status=status, updated_at=updated)
        for status, updated in shipments
    ]
    return fixture("shopify_order.json", fulfillments=items)


def test_a_shopify_fulfillment_row_is_partial_with_its_news() -> None:
    row = shopify_orders.fulfillment_row(
        fixture("shopify_fulfillment.json", estimated_delivery_at="2026-11-23T18:00:00-03:00")
    )
    assert row == {
        "order_id": "shopify:5512345678901",
        "updated_at": "2026-11-21T09:00:00-03:00",
        "delivery_status": "shipped",
        "tracking_url": TRACKING,
        "estimated_delivery_at": "2026-11-23T18:00:00-03:00",
    }


def test_tracking_urls_is_read_when_tracking_url_is_empty() -> None:
    row = shopify_orders.fulfillment_row(
        fixture(
            "shopify_fulfillment.json", tracking_url=None, tracking_urls=["https://t.example/1"]
        )
    )
    assert row is not None and row["tracking_url"] == "https://t.example/1"


def test_a_cancelled_fulfillment_gives_no_row() -> None:
    assert (
        shopify_orders.fulfillment_row(fixture("shopify_fulfillment.json", status="cancelled"))
        is None
    )


def test_an_order_is_delivered_only_when_every_fulfillment_is() -> None:
    partly = shopify_orders.order_row(
        fulfilled(("delivered", "2026-11-24T10:00:00Z"), ("in_transit", "2026-11-23T10:00:00Z"))
    )
    assert partly is not None and partly["delivery_status"] == "shipped"
    assert "delivered_at" not in partly
    whole = shopify_orders.order_row(
        fulfilled(("delivered", "2026-11-24T10:00:00Z"), ("delivered", "2026-11-25T10:00:00Z"))
    )
    assert whole is not None and whole["delivered_at"] == "2026-11-25T10:00:00Z"


def test_an_unspoken_customer_locale_is_left_to_the_store_default() -> None:
    row = shopify_orders.order_row(fixture("shopify_order.json", customer_locale="ja"))
    assert row is not None and row["locale"] == ""
    row = shopify_orders.order_row(fixture("shopify_order.json", customer_locale="es-MX"))
    assert row is not None and row["locale"] == "es"


@pytest.mark.parametrize(
    ("status", "delivery"),
    [
        ("processing", None),
        ("on-hold", None),
        ("completed", "delivered"),
        ("shipped", "shipped"),
        ("out-for-delivery", "out_for_delivery"),
        ("delivered", "delivered"),
        ("failed-delivery", "delivery_failed"),
    ],
)
def test_woocommerce_statuses(status: str, delivery: str | None) -> None:
    row = woocommerce_orders.order_row(fixture("woocommerce_order.json", status=status))
    assert row is not None and row.get("delivery_status") == delivery


def test_woocommerce_guest_and_gmt_times() -> None:
    row = woocommerce_orders.order_row(fixture("woocommerce_order.json", customer_id=0))
    assert row is not None
    assert row["customer_id"] == "woocommerce:email:joao.pereira@example.com"
    assert row["purchased_at"] == "2026-11-20T13:15:00+00:00"
