"""Orders already stored, by the store's order id: what a partial event needs from them.

A store's shipment event (a Shopify fulfillment) names its order by id and carries
neither the customer nor the purchase time the import requires; the order recorded
earlier (its creation event) holds them. Returned as order-row fields, so the event's
row, completed with them, goes through the import like any other.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, Order


def _decimal(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


async def known_orders(
    session: AsyncSession, external_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """``{order id: {customer_id, purchased_at, total, currency}}`` of the stored ones."""
    if not external_ids:
        return {}
    query = (
        select(
            Order.external_id,
            Customer.external_id,
            Order.purchased_at,
            Order.total_cents,
            Order.currency,
        )
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.external_id.in_(list(external_ids)))
    )
    found: dict[str, dict[str, Any]] = {}
    for order_id, customer_id, purchased_at, cents, currency in await session.execute(query):
        found[order_id] = {
            "customer_id": customer_id,
            "purchased_at": purchased_at.isoformat(),
            # Carried over: an order row without them would clear the stored ones.
            "total": _decimal(cents) if cents is not None else "",
            "currency": currency or "",
        }
    return found
