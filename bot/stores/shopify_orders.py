"""Shopify's orders and fulfillments as order rows (REST Admin API 2025-01 shapes).

An order (``orders/create``, ``orders/updated``, ``orders/fulfilled``, and the order
the Admin API returns) carries its customer and its ``fulfillments``; a fulfillment
event (``fulfillments/create``, ``fulfillments/update``) carries only its ``order_id``,
so its row is partial (``bot.stores.port.is_partial``) and is completed from the stored
order. A fulfillment's ``shipment_status`` (the carrier's latest news) gives the
delivery status: ``out_for_delivery`` and ``ready_for_pickup`` are out for delivery,
``delivered`` and ``picked_up`` delivered (at the fulfillment's ``updated_at``),
``failure``, ``attempted_delivery`` and ``not_delivered`` a failed delivery, anything
else (``confirmed``, ``label_printed``, ``in_transit``, none yet ...) shipped. A
cancelled fulfillment shipped nothing. An order with several fulfillments is delivered
when every one is; until then the latest news of the others counts.
"""

from __future__ import annotations

from typing import Any

from bot.stores.order_values import full_name, guest_id, known_locale, platform_id, text
from bot.stores.port import OrderRow, Unreadable

PLATFORM = "shopify"

_SHIPMENT: dict[str, str] = {
    "out_for_delivery": "out_for_delivery",
    "ready_for_pickup": "out_for_delivery",
    "delivered": "delivered",
    "picked_up": "delivered",
    "failure": "delivery_failed",
    "attempted_delivery": "delivery_failed",
    "not_delivered": "delivery_failed",
}
# Fulfillment statuses that mean no parcel left (or it was called back).
_NOT_SHIPPED = frozenset({"cancelled", "error", "failure", "pending", "open"})


def _object(payload: Any, what: str, key: str) -> dict[str, Any]:
    if not isinstance(payload, dict) or payload.get(key) in (None, ""):
        raise Unreadable(f"not a Shopify {what}: no {key!r}")
    return payload


def fulfillment_fields(fulfillment: dict[str, Any]) -> dict[str, str]:
    """The delivery fields one fulfillment gives; {} when it shipped nothing."""
    if fulfillment.get("status") in _NOT_SHIPPED:
        return {}
    status = _SHIPMENT.get(text(fulfillment.get("shipment_status")), "shipped")
    urls = fulfillment.get("tracking_urls")
    tracking = text(fulfillment.get("tracking_url")) or (
        text(urls[0]) if isinstance(urls, list) and urls else ""
    )
    fields = {"delivery_status": status, "tracking_url": tracking}
    if estimate := text(fulfillment.get("estimated_delivery_at")):
        fields["estimated_delivery_at"] = estimate
    if status == "delivered":
        fields["delivered_at"] = text(fulfillment.get("updated_at"))
    return fields


def _delivery(fulfillments: Any) -> dict[str, str]:
    """The order's delivery fields from its fulfillments (see the module's docstring)."""
    if not isinstance(fulfillments, list):
        return {}
    shipped = [
        (text(f.get("updated_at")), fields)
        for f in fulfillments
        if isinstance(f, dict) and (fields := fulfillment_fields(f))
    ]
    if not shipped:
        return {}
    shipped.sort(key=lambda pair: pair[0])
    pending = [fields for _, fields in shipped if fields["delivery_status"] != "delivered"]
    return pending[-1] if pending else shipped[-1][1]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _customer(order: dict[str, Any]) -> dict[str, str]:
    customer = _dict(order.get("customer"))
    address = _dict(order.get("shipping_address")) or _dict(order.get("billing_address"))
    email = text(order.get("email")) or text(customer.get("email"))
    phone = text(customer.get("phone")) or text(order.get("phone")) or text(address.get("phone"))
    name = full_name(customer.get("first_name"), customer.get("last_name")) or text(
        address.get("name")
    )
    known = customer.get("id")
    customer_id = platform_id(PLATFORM, known) if known else guest_id(PLATFORM, email, phone)
    return {"customer_id": customer_id, "customer_name": name, "phone": phone, "email": email}


def order_row(payload: Any) -> OrderRow | None:
    """The row of a Shopify order; None for a cancelled one or one with nobody to reach."""
    order = _object(payload, "order", "id")
    if order.get("cancelled_at"):
        return None
    row: OrderRow = {"order_id": platform_id(PLATFORM, order["id"]), **_customer(order)}
    if not row["customer_id"]:
        return None
    locale = order.get("customer_locale") or _dict(order.get("customer")).get("locale")
    row.update(
        locale=known_locale(locale),
        total=text(order.get("total_price")),
        currency=text(order.get("currency")),
        purchased_at=text(order.get("processed_at")) or text(order.get("created_at")),
        updated_at=text(order.get("updated_at")),
    )
    row.update(_delivery(order.get("fulfillments")))
    return row


def fulfillment_row(payload: Any) -> OrderRow | None:
    """The partial row of a fulfillment event; None for one that shipped nothing."""
    fulfillment = _object(payload, "fulfillment", "order_id")
    fields = fulfillment_fields(fulfillment)
    if not fields:
        return None
    return {
        "order_id": platform_id(PLATFORM, fulfillment["order_id"]),
        "updated_at": text(fulfillment.get("updated_at")),
        **fields,
    }
