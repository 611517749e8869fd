"""Store webhooks already recorded, by the platform's delivery id: a replay changes nothing.

Platforms deliver at least once (a timeout on their side, a retry after our 503), so
the id is noted after the orders are recorded; a request whose id is noted is answered
at once. Two copies arriving together may both be recorded: recording an order twice
upserts the same row, so nothing is doubled either way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebhookDelivery


async def was_recorded(session: AsyncSession, source: str, delivery_id: str) -> bool:
    """Whether delivery ``delivery_id`` of ``source`` was recorded before."""
    found = await session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.source == source, WebhookDelivery.delivery_id == delivery_id
        )
    )
    return found is not None


async def note_recorded(
    session: AsyncSession, source: str, delivery_id: str, now: datetime
) -> bool:
    """Note the delivery as recorded; False when another request noted it first."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(WebhookDelivery)
        .values(source=source, delivery_id=delivery_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["source", "delivery_id"])
        .returning(WebhookDelivery.id)
    )
    return (await session.execute(stmt)).first() is not None


async def forget_older(session: AsyncSession, before: datetime) -> int:
    """Drop the notes of deliveries received before ``before`` (platforms stop retrying
    after days: Shopify within 48 hours)."""
    result = await session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.received_at < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)
