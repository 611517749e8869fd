"""What a channel's server later says of a sent message: sent, delivered, read, failed.

WhatsApp reports each message's progress in webhook ``statuses``, possibly out of order
and more than once; a receipt only moves forward (read is not undone by a late
"delivered"), and "failed" stands once given.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage

RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


async def record_receipt(
    session: AsyncSession,
    channel: str,
    remote_id: str,
    status: str,
    at: datetime,
    error: str | None = None,
) -> bool:
    """Record ``status`` on the message ``remote_id`` was; False when it changed nothing
    (an unknown message, an unknown status, or one behind what is recorded)."""
    rank = RANK.get(status)
    if rank is None:
        return False
    row = (
        await session.execute(
            select(OutboxMessage.id, OutboxMessage.receipt).where(
                OutboxMessage.channel == channel, OutboxMessage.remote_id == remote_id
            )
        )
    ).first()
    if row is None or RANK.get(row.receipt or "", 0) >= rank:
        return False
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id)
        .values(receipt=status, receipt_at=at, receipt_error=(error or None) and error[:500])
    )
    return True


def receipt_line(receipt: str | None, error: str | None) -> str | None:
    """How a message's receipt reads for operators: "delivered", "failed: <reason>"."""
    if receipt is None:
        return None
    return f"failed: {error}" if receipt == "failed" and error else receipt


__all__ = ["RANK", "receipt_line", "record_receipt"]
