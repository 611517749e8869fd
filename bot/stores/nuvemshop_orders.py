"""A Nuvemshop order (``GET /{store_id}/orders/{id}``, API v1) as an order row.

Fields read (Nuvemshop API v1 "Order" resource): ``id``, ``customer`` (``id``, ``name``,
``email``, ``phone``), ``contact_email`` / ``contact_phone`` / ``contact_name`` (the
buyer, also on guest checkouts), ``billing_phone``, ``language``, ``total``,
``currency``, ``created_at``, ``updated_at``, ``paid_at``, ``shipping_status``,
``shipped_at``, ``shipping_tracking_url``, ``shipping_max_days``.

Delivery: v1's ``shipping_status`` is ``unpacked``, ``unshipped`` or ``shipped``; only
``shipped`` says something to the customer. Stores on the newer order API (multi
inventory, 2025-03) also carry ``fulfillment_orders``, each with a ``status``
(``DISPATCHED``, ``DELIVERED``, ``NOT_DELIVERED``, ...) and ``tracking_info.url``:
an order is delivered when every fulfillment order is, failed when one is not
delivered. That API gives no delivery time of its own, so the delivery is dated by the
fulfillment order's ``updated_at`` (else the order's): the time the store learned it.

Estimate: ``shipping_max_days`` is in weekdays, counted here from payment (``paid_at``,
else the purchase) in the order's own offset; the row carries the date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from bot.stores.order_values import (
    guest_id,
    known_locale,
    latest_time,
    platform_id,
    text,
    usable_time,
)
from bot.stores.port import OrderRow, Unreadable

PLATFORM = "nuvemshop"
# fulfillment_orders[].status -> our delivery_status
FULFILLMENT_STATUS = {
    "DISPATCHED": "shipped",
    "DELIVERED": "delivered",
    "NOT_DELIVERED": "delivery_failed",
}


def order_row(order: Any) -> OrderRow:
    """The row of one fetched order; ``Unreadable`` when it is not an order."""
    if not isinstance(order, Mapping) or not text(order.get("id")):
        raise Unreadable("the Nuvemshop API's answer is not an order (no id)")
    purchased = usable_time(order.get("created_at"))
    if not purchased:
        raise Unreadable(f"Nuvemshop order {order.get('id')}: no readable created_at")
    customer = order.get("customer")
    customer = customer if isinstance(customer, Mapping) else {}
    email = text(customer.get("email")) or text(order.get("contact_email"))
    phone = (
        text(customer.get("phone"))
        or text(order.get("contact_phone"))
        or text(order.get("billing_phone"))
    )
    row: OrderRow = {
        "order_id": platform_id(PLATFORM, order.get("id")),
        "customer_id": platform_id(PLATFORM, customer.get("id"))
        or guest_id(PLATFORM, email, phone),
        "customer_name": text(customer.get("name")) or text(order.get("contact_name")),
        "email": email,
        "phone": phone,
        "locale": known_locale(order.get("language")),
        "total": text(order.get("total")),
        "currency": text(order.get("currency")).upper(),
        "purchased_at": purchased,
        "updated_at": usable_time(order.get("updated_at")),
        "estimated_delivery_at": _estimate(order, purchased),
    }
    row.update(_delivery(order))
    return row


def _delivery(order: Mapping[str, Any]) -> dict[str, str]:
    """``delivery_status``, ``delivered_at`` and ``tracking_url`` the order shows."""
    found: dict[str, str] = {}
    tracking = text(order.get("shipping_tracking_url"))
    if text(order.get("shipping_status")) == "shipped":
        found["delivery_status"] = "shipped"
    fulfillments = [f for f in order.get("fulfillment_orders") or () if isinstance(f, Mapping)]
    statuses = [FULFILLMENT_STATUS.get(text(f.get("status")).upper()) for f in fulfillments]
    for fulfillment in fulfillments:
        info = fulfillment.get("tracking_info")
        if not tracking and isinstance(info, Mapping):
            tracking = text(info.get("url"))
    if fulfillments and all(status == "delivered" for status in statuses):
        found["delivery_status"] = "delivered"
        dates = [usable_time(f.get("updated_at")) for f in fulfillments]
        found["delivered_at"] = latest_time(dates) or usable_time(order.get("updated_at"))
    elif "delivery_failed" in statuses:
        found["delivery_status"] = "delivery_failed"
    elif "shipped" in statuses or "delivered" in statuses:
        found["delivery_status"] = "shipped"
    if tracking:
        found["tracking_url"] = tracking
    return found


def _estimate(order: Mapping[str, Any], purchased: str) -> str:
    days = order.get("shipping_max_days")
    if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        return ""
    start = datetime.fromisoformat(usable_time(order.get("paid_at")) or purchased)
    return add_weekdays(start.date(), days).isoformat()


def add_weekdays(start: date, days: int) -> date:
    """``days`` weekdays (Monday to Friday) after ``start``."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day
