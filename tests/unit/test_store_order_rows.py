"""Nuvemshop and VTEX orders (the platforms' JSON, tests/fixtures/stores) as order rows:
the delivery fields each state means, and values the import would refuse left out."""

from __future__ import annotations

import pytest

from bot.stores import nuvemshop_orders, vtex_orders
from bot.stores.port import Unreadable
from tests.fakes.store_apis import fixture


def test_a_nuvemshop_order_paid_not_shipped() -> None:
    row = nuvemshop_orders.order_row(fixture("nuvemshop_order"))
    assert row["order_id"] == "nuvemshop:450789469"
    assert row["customer_id"] == "nuvemshop:207119551"
    assert (row["total"], row["currency"], row["locale"]) == ("129.90", "BRL", "pt-BR")
    assert row["updated_at"] == "2025-03-03T10:20:00-03:00"
    assert row["estimated_delivery_at"] == "2025-03-10"  # paid Monday, 5 weekdays
    assert "delivery_status" not in row and "delivered_at" not in row


def test_a_shipped_nuvemshop_order_with_tracking() -> None:
    order = fixture("nuvemshop_order")
    order.update(shipping_status="shipped", shipping_tracking_url="https://t.example/BR1")
    row = nuvemshop_orders.order_row(order)
    assert (row["delivery_status"], row["tracking_url"]) == ("shipped", "https://t.example/BR1")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["DELIVERED", "DELIVERED"], "delivered"),
        (["DELIVERED", "DISPATCHED"], "shipped"),
        (["DISPATCHED", "NOT_DELIVERED"], "delivery_failed"),
        (["PACKED"], None),
    ],
)
def test_nuvemshop_fulfillment_orders(statuses: list[str], expected: str | None) -> None:
    order = fixture("nuvemshop_order")
    order["fulfillment_orders"] = [
        {"status": s, "updated_at": f"2025-03-0{i + 6}T09:00:00-03:00"}
        for i, s in enumerate(statuses)
    ]
    row = nuvemshop_orders.order_row(order)
    assert row.get("delivery_status") == expected
    if expected == "delivered":
        assert row["delivered_at"] == "2025-03-07T09:00:00-03:00"  # the last one


def test_a_nuvemshop_guest_is_known_by_email_and_an_unknown_language_is_dropped() -> None:
    order = fixture("nuvemshop_order")
    order.update(customer=None, language="fr")
    row = nuvemshop_orders.order_row(order)
    assert row["customer_id"] == "nuvemshop:email:ana.souza@example.com"
    assert row["phone"] == "+5511987654321" and row["locale"] == ""


def test_a_nuvemshop_answer_that_is_no_order_is_unreadable() -> None:
    with pytest.raises(Unreadable):
        nuvemshop_orders.order_row({"code": 404, "message": "Not Found"})


def test_a_vtex_order_ready_for_handling() -> None:
    row = vtex_orders.order_row(fixture("vtex_order"))
    assert row["order_id"] == "vtex:v5195004lux-01"
    assert row["customer_id"] == "vtex:5a3692de-358a-4bea-8885-044bce33bb93"
    assert (row["customer_name"], row["total"], row["currency"]) == ("João Lima", "1067.14", "BRL")
    assert row["estimated_delivery_at"] == "2025-03-10T13:19:14.6610588+00:00"
    assert "delivery_status" not in row


def test_a_vtex_invoice_with_tracking_is_shipped_and_a_finished_one_delivered() -> None:
    order = fixture("vtex_order")
    package = fixture("vtex_package_delivered")
    order.update(status="invoiced")
    order["packageAttachment"]["packages"] = [package]
    delivered = vtex_orders.order_row(order)
    assert delivered["delivery_status"] == "delivered"
    assert delivered["delivered_at"] == "2025-03-07T15:44:00.0000000+00:00"
    assert delivered["tracking_url"] == "https://tracking.example.com/TX834"
    package["courierStatus"] = {"status": "ok", "finished": False, "data": []}
    assert vtex_orders.order_row(order)["delivery_status"] == "shipped"
    package.update(trackingNumber=None, trackingUrl=None)
    assert "delivery_status" not in vtex_orders.order_row(order)  # an invoice alone


def test_a_vtex_delivery_without_a_date_is_dated_by_its_last_event() -> None:
    order = fixture("vtex_order")
    package = fixture("vtex_package_delivered")
    del package["courierStatus"]["deliveredDate"]
    order["packageAttachment"]["packages"] = [package]
    assert vtex_orders.order_row(order)["delivered_at"] == "2025-03-07T15:44:00.0000000+00:00"


def test_vtex_null_dates_and_odd_values_are_left_out() -> None:
    order = fixture("vtex_order")
    order["shippingData"]["logisticsInfo"][0]["shippingEstimateDate"] = "0001-01-01T00:00:00"
    order["value"] = "1067.14"  # not VTEX's integer cents
    order["clientProfileData"]["userProfileId"] = None
    row = vtex_orders.order_row(order)
    assert row["estimated_delivery_at"] == "" and row["total"] == ""
    assert row["customer_id"] == "vtex:email:joao.lima@example.com"
