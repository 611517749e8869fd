"""The store's currency: the one most of its orders are in ("" when none says)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Order


async def main_currency(session: AsyncSession) -> str:
    """The currency code most orders carry; amounts are summed as one currency."""
    found = await session.scalar(
        select(Order.currency)
        .where(Order.currency.is_not(None))
        .group_by(Order.currency)
        .order_by(func.count().desc())
        .limit(1)
    )
    return found or ""
