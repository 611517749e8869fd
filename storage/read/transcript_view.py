"""A conversation as the customer saw it: each line's text, its buttons by their labels,
the button pressed (by the label it showed), and where each message to them got to.

A transcript line and the outbox row that carried it are written together
(``MessageContext.send_to``: same chat, same time, same text), so a line's delivery is
the outbox row of its chat with the same creation time and text: the queue's status
(queued, sent, failed with the error, unknown) or, when the channel reported one, its
receipt (delivered, read, failed with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, Customer, Message, OutboxMessage

LINES = 500  # the newest lines shown of a long conversation


@dataclass(frozen=True)
class Line:
    id: int
    direction: str
    flow: str | None
    text: str | None
    at: datetime
    buttons: tuple[tuple[str, ...], ...]  # the labels of the buttons it showed, by row
    pressed: str | None  # an incoming button press: the label the customer saw
    delivery: str | None  # out: queued / sent / delivered / read / failed: why / unknown
    delivery_at: datetime | None


@dataclass(frozen=True)
class Transcript:
    conversation: Conversation
    customer: Customer | None
    lines: list[Line]
    total: int


def _labels(payload: dict[str, Any] | None) -> tuple[tuple[str, ...], ...]:
    rows = (payload or {}).get("buttons") or []
    return tuple(
        tuple(str(b.get("text", "")) for b in row if isinstance(b, dict))
        for row in rows
        if isinstance(row, list)
    )


def _pressed(payload: dict[str, Any] | None) -> str | None:
    if not payload or "button" not in payload:
        return None
    return str(payload.get("label") or payload["button"])


def _state(row: OutboxMessage) -> tuple[str, datetime | None]:
    if row.receipt is not None:
        failed = row.receipt == "failed" and row.receipt_error
        return (f"failed: {row.receipt_error}" if failed else row.receipt), row.receipt_at
    if row.status == "failed":
        return (f"failed: {row.error}" if row.error else "failed"), row.failed_at
    return row.status, row.sent_at or row.created_at


async def _deliveries(
    session: AsyncSession, conv: Conversation, messages: list[Message]
) -> dict[tuple[datetime, str], OutboxMessage]:
    out = [m for m in messages if m.direction == "out"]
    if not out:
        return {}
    rows = await session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == conv.channel,
            OutboxMessage.chat_id == conv.chat_id,
            OutboxMessage.created_at >= min(m.at for m in out),
            OutboxMessage.created_at <= max(m.at for m in out),
        )
        .order_by(OutboxMessage.id)
    )
    found: dict[tuple[datetime, str], OutboxMessage] = {}
    for row in rows:
        found.setdefault((row.created_at, str(row.body.get("text") or "")), row)
    return found


def _line(m: Message, deliveries: dict[tuple[datetime, str], OutboxMessage]) -> Line:
    state: tuple[str | None, datetime | None] = (None, None)
    if m.direction == "out":
        row = deliveries.get((m.at, m.text or ""))
        if row is not None:
            state = _state(row)
    payload = m.payload if isinstance(m.payload, dict) else None
    return Line(
        m.id, m.direction, m.flow, m.text, m.at, _labels(payload), _pressed(payload), *state
    )


async def transcript(session: AsyncSession, conversation_id: int) -> Transcript | None:
    """The conversation's newest ``LINES`` lines in order, with buttons and deliveries."""
    conv = await session.get(Conversation, conversation_id)
    if conv is None:
        return None
    newest = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.at.desc(), Message.id.desc())
        .limit(LINES)
    )
    messages = list(newest)[::-1]
    total = len(messages)
    if total == LINES:
        total = int(
            await session.scalar(
                select(func.count(Message.id)).where(Message.conversation_id == conversation_id)
            )
            or 0
        )
    owner = conv.customer_id or next(
        (m.customer_id for m in reversed(messages) if m.customer_id), None
    )
    customer = await session.get(Customer, owner) if owner else None
    deliveries = await _deliveries(session, conv, messages)
    return Transcript(conv, customer, [_line(m, deliveries) for m in messages], total)


__all__ = ["LINES", "Line", "Transcript", "transcript"]
