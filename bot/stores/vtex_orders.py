"""A VTEX order (OMS ``GET /api/oms/pvt/orders/{orderId}``) as an order row.

Fields read (VTEX Orders API, "Get order"): ``orderId``, ``status``, ``value`` (integer
cents), ``creationDate``, ``lastChange``, ``clientProfileData`` (``userProfileId``,
``email``, ``firstName``, ``lastName``, ``phone``), ``clientPreferencesData.locale``,
``storePreferencesData.currencyCode``, ``shippingData.logisticsInfo[]
.shippingEstimateDate`` and ``packageAttachment.packages[]`` (``trackingNumber``,
``trackingUrl``, ``courierStatus``: ``finished``, ``deliveredDate``, ``data[]
.lastChange``).

Delivery: ``invoiced`` is the last state of VTEX's own flow; the carrier's progress is
in each package's ``courierStatus``. The order is delivered when every outgoing package
is ``finished`` (dated by the latest ``deliveredDate``, else by the package's last
tracking event, else by the order's ``lastChange``); shipped when it is invoiced and a
package has tracking (an invoice alone may be issued before the parcel leaves). VTEX
has no "delivery failed" state to read. The estimate is the latest
``shippingEstimateDate`` of the order's items: the day its last parcel should arrive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.stores.order_values import (
    cents_text,
    guest_id,
    known_locale,
    latest_time,
    platform_id,
    text,
    usable_time,
)
from bot.stores.port import OrderRow, Unreadable

PLATFORM = "vtex"


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def order_row(order: Any) -> OrderRow:
    """The row of one fetched order; ``Unreadable`` when it is not an order."""
    if not isinstance(order, Mapping) or not text(order.get("orderId")):
        raise Unreadable("the VTEX API's answer is not an order (no orderId)")
    purchased = usable_time(order.get("creationDate"))
    if not purchased:
        raise Unreadable(f"VTEX order {order.get('orderId')}: no readable creationDate")
    client = _object(order.get("clientProfileData"))
    email, phone = text(client.get("email")), text(client.get("phone"))
    name = " ".join(filter(None, (text(client.get("firstName")), text(client.get("lastName")))))
    row: OrderRow = {
        "order_id": platform_id(PLATFORM, order.get("orderId")),
        "customer_id": platform_id(PLATFORM, client.get("userProfileId"))
        or guest_id(PLATFORM, email, phone),
        "customer_name": name,
        "email": email,
        "phone": phone,
        "locale": known_locale(_object(order.get("clientPreferencesData")).get("locale")),
        "total": cents_text(order.get("value")),
        "currency": text(_object(order.get("storePreferencesData")).get("currencyCode")),
        "purchased_at": purchased,
        "updated_at": usable_time(order.get("lastChange")),
        "estimated_delivery_at": _estimate(order),
    }
    row.update(_delivery(order))
    return row


def _estimate(order: Mapping[str, Any]) -> str:
    logistics = _objects(_object(order.get("shippingData")).get("logisticsInfo"))
    dates = [usable_time(info.get("shippingEstimateDate")) for info in logistics]
    return latest_time(dates)


def _delivery(order: Mapping[str, Any]) -> dict[str, str]:
    packages = [
        p
        for p in _objects(_object(order.get("packageAttachment")).get("packages"))
        if text(p.get("type")) in ("", "Output")  # "Input" is a return coming back
    ]
    found: dict[str, str] = {}
    tracking = next(
        (text(p.get("trackingUrl")) for p in packages if text(p.get("trackingUrl"))), ""
    )
    if tracking:
        found["tracking_url"] = tracking
    statuses = [_object(p.get("courierStatus")) for p in packages]
    if packages and all(status.get("finished") is True for status in statuses):
        found["delivery_status"] = "delivered"
        found["delivered_at"] = latest_time(_delivered_at(s) for s in statuses) or usable_time(
            order.get("lastChange")
        )
    elif text(order.get("status")) == "invoiced" and any(
        text(p.get("trackingNumber")) or text(p.get("trackingUrl")) for p in packages
    ):
        found["delivery_status"] = "shipped"
    return found


def _delivered_at(status: Mapping[str, Any]) -> str:
    given = usable_time(status.get("deliveredDate"))
    if given:
        return given
    events = _objects(status.get("data"))
    return latest_time(usable_time(event.get("lastChange")) for event in events)
