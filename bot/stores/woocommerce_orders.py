"""WooCommerce orders as order rows (the REST API v3 order, ``wc/v3``, as webhooks send it).

Which orders are recorded: paid ones and beyond. ``pending`` (awaiting payment, often
an abandoned checkout), ``failed``, ``cancelled``, ``refunded``, ``checkout-draft`` and
``trash`` are not (an order recorded before keeps its row: the import cannot take one
back). The delivery status, from the order's status:

- ``completed``: WooCommerce has no shipping states, and stores use it both ways, so
  WOOCOMMERCE_COMPLETED_STATUS says which: ``delivered`` (the default, at
  ``date_completed_gmt``; the follow-up counts from it) or ``shipped``;
- the statuses shipping plugins add: ``shipped`` / ``partial-shipped``,
  ``out-for-delivery``, ``delivered`` (at ``date_modified_gmt``), ``failed-delivery``;
- ``processing`` or ``on-hold`` with a "Shipment Tracking" item
  (``_wc_shipment_tracking_items`` meta) is shipped; without one, nothing yet.

The tracking URL is the last tracking item's ``custom_tracking_link`` (the plugin keeps
no URL for its predefined carriers). Times are the ``*_gmt`` fields, read as UTC.
"""

from __future__ import annotations

from typing import Any

from bot.stores.order_values import full_name, gmt, guest_id, known_locale, platform_id, text
from bot.stores.port import OrderRow, Unreadable

PLATFORM = "woocommerce"

NOT_RECORDED = frozenset(
    {"pending", "failed", "cancelled", "refunded", "checkout-draft", "trash", "draft"}
)
_PLUGIN_STATUSES: dict[str, str] = {
    "shipped": "shipped",
    "partial-shipped": "shipped",
    "out-for-delivery": "out_for_delivery",
    "delivered": "delivered",
    "failed-delivery": "delivery_failed",
    "delivery-failed": "delivery_failed",
}
TRACKING_META = "_wc_shipment_tracking_items"
# Where WPML keeps the language the order was placed in.
_LANGUAGE_META = "wpml_language"


def _meta(order: dict[str, Any], key: str) -> Any:
    for item in order.get("meta_data") or []:
        if isinstance(item, dict) and item.get("key") == key:
            return item.get("value")
    return None


def _tracking_url(order: dict[str, Any]) -> tuple[bool, str]:
    """(whether a tracking item is there, its link or '')."""
    items = _meta(order, TRACKING_META)
    if not isinstance(items, list) or not items:
        return False, ""
    last = items[-1] if isinstance(items[-1], dict) else {}
    return True, text(last.get("custom_tracking_link"))


def _delivery(order: dict[str, Any], completed_means: str) -> dict[str, str]:
    status = text(order.get("status"))
    tracked, url = _tracking_url(order)
    if status == "completed":
        delivery = completed_means
    elif status in _PLUGIN_STATUSES:
        delivery = _PLUGIN_STATUSES[status]
    elif tracked:
        delivery = "shipped"
    else:
        return {}
    fields = {"delivery_status": delivery, "tracking_url": url}
    if delivery == "delivered":
        when = order.get("date_completed_gmt") if status == "completed" else None
        fields["delivered_at"] = gmt(when) or gmt(order.get("date_modified_gmt"))
    return fields


def _address(order: dict[str, Any], key: str) -> dict[str, Any]:
    value = order.get(key)
    return value if isinstance(value, dict) else {}


def order_row(payload: Any, completed_means: str = "delivered") -> OrderRow | None:
    """The row of a WooCommerce order; None for one not recorded (see the docstring) or
    with nobody to reach."""
    if not isinstance(payload, dict) or payload.get("id") in (None, "", 0):
        raise Unreadable("not a WooCommerce order: no 'id'")
    if text(payload.get("status")) in NOT_RECORDED:
        return None
    billing, shipping = _address(payload, "billing"), _address(payload, "shipping")
    email = text(billing.get("email"))
    phone = text(billing.get("phone")) or text(shipping.get("phone"))
    known = payload.get("customer_id")
    customer_id = platform_id(PLATFORM, known) if known else guest_id(PLATFORM, email, phone)
    if not customer_id:
        return None
    row: OrderRow = {
        "order_id": platform_id(PLATFORM, payload["id"]),
        "customer_id": customer_id,
        "customer_name": full_name(billing.get("first_name"), billing.get("last_name")),
        "phone": phone,
        "email": email,
        "locale": known_locale(_meta(payload, _LANGUAGE_META)),
        "total": text(payload.get("total")),
        "currency": text(payload.get("currency")),
        "purchased_at": gmt(payload.get("date_created_gmt")),
        "updated_at": gmt(payload.get("date_modified_gmt")),
    }
    row.update(_delivery(payload, completed_means))
    return row
