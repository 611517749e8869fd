"""What a ticket's view shows of its customer's chat: what they wrote, and whether the
last answer to them arrived (sent, delivered, read, failed with the reason)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Message, OutboxMessage, TicketEvent

ANSWERS = ("operator", "resolution")  # what operators send a ticket's customer


async def ticket_events(session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    """A ticket's timeline, oldest first (the chat's /ticket and the web admin's page)."""
    events = await session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    return list(events)


async def written_messages(
    session: AsyncSession, customer_id: int, limit: int = 5
) -> Sequence[Message]:
    """The customer's last messages in their own words (not presses or commands), in order."""
    messages = await session.scalars(
        select(Message)
        .where(
            Message.customer_id == customer_id,
            Message.direction == "in",
            Message.text.is_not(None),
        )
        .order_by(Message.at.desc(), Message.id.desc())
        .limit(30)
    )
    written = [m for m in messages if m.text and not m.text.startswith(("/", "["))]
    return written[:limit][::-1]


@dataclass(frozen=True)
class AnswerDelivery:
    """Where the last answer to the customer stands, and since when."""

    state: str  # "queued", "sent", "delivered", "read", "failed: <reason>", "unknown"
    at: datetime


async def last_answer_delivery(session: AsyncSession, customer_id: int) -> AnswerDelivery | None:
    """The newest operator answer or resolution question to the customer, as it stands."""
    row = (
        await session.execute(
            select(
                OutboxMessage.status,
                OutboxMessage.error,
                OutboxMessage.receipt,
                OutboxMessage.receipt_error,
                OutboxMessage.receipt_at,
                OutboxMessage.sent_at,
                OutboxMessage.failed_at,
                OutboxMessage.created_at,
            )
            .where(OutboxMessage.customer_id == customer_id, OutboxMessage.purpose.in_(ANSWERS))
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    status, error, receipt, receipt_error, receipt_at, sent_at, failed_at, created_at = row
    if receipt is not None:
        state = f"failed: {receipt_error}" if receipt == "failed" and receipt_error else receipt
        return AnswerDelivery(state, receipt_at or sent_at or created_at)
    if status == "failed" and error:
        return AnswerDelivery(f"failed: {error}", failed_at or created_at)
    return AnswerDelivery(status, sent_at or created_at)


__all__ = ["AnswerDelivery", "last_answer_delivery", "written_messages"]
