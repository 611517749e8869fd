"""Where an order's delivery stands, and which news may move it.

A store reports ``shipped``, ``out_for_delivery``, ``delivered`` or ``delivery_failed``;
the import stores the status with the moment it changed (``orders.delivery_status_at``).
Delivered is final: events replayed late, without a version to tell they are old, must
not move a delivered order back to shipped, nor mark it failed.
"""

from __future__ import annotations

from typing import Final

SHIPPED: Final = "shipped"
OUT_FOR_DELIVERY: Final = "out_for_delivery"
DELIVERED: Final = "delivered"
DELIVERY_FAILED: Final = "delivery_failed"

DELIVERY_STATUSES: Final = (SHIPPED, OUT_FOR_DELIVERY, DELIVERED, DELIVERY_FAILED)
"""Every value ``orders.delivery_status`` may hold (NULL: nothing known yet)."""


def settled_status(stored: str | None, stored_delivered: bool, reported: str | None) -> str | None:
    """The status to write when a row reports ``reported`` over a stored order.

    ``stored_delivered``: the order has a delivery time (orders from before statuses
    existed have one without a status). None means "leave the stored status as it is":
    nothing was reported, or the report would move a delivered order backwards.
    """
    if reported is None or reported == stored:
        return None
    if (stored == DELIVERED or stored_delivered) and reported != DELIVERED:
        return None
    return reported
