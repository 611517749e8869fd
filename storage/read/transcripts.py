"""Transcripts for admins: conversations with their messages, listed, shown and streamed.

Filters apply to messages (who, when, in which flow); a conversation is listed when
one of its messages matches. ``stream_messages`` reads in batches from a cursor, so
an export never holds the whole table in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, Customer, Message

BATCH = 500
FIELDS = (
    "id",
    "conversation_id",
    "customer",
    "channel",
    "chat_id",
    "direction",
    "flow",
    "text",
    "at",
)

# A spreadsheet reads a cell that starts with one of these as a formula (CSV injection):
# such a text (what a customer wrote, or their store id) is written after a quote mark,
# which shows it as the text it is. JSONL keeps every text as written.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FREE_TEXT = ("text", "customer")


def spreadsheet_safe(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` for a CSV file: free text that would start a formula gets a leading quote."""
    return {
        k: f"'{v}" if k in FREE_TEXT and isinstance(v, str) and v.startswith(FORMULA_STARTS) else v
        for k, v in row.items()
    }


@dataclass(frozen=True)
class TranscriptFilter:
    """Which messages: the store's customer id, ``[since, until)``, the flow they were in."""

    customer: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    flow: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.customer is not None:
            found.append(
                Message.customer_id.in_(
                    select(Customer.id).where(Customer.external_id == self.customer)
                )
            )
        if self.since is not None:
            found.append(Message.at >= self.since)
        if self.until is not None:
            found.append(Message.at < self.until)
        if self.flow is not None:
            found.append(Message.flow == self.flow)
        return found


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    channel: str
    chat_id: str
    customer: str | None
    flow: str
    state: str
    messages: int
    first_at: datetime
    last_at: datetime


async def list_conversations(
    session: AsyncSession, filters: TranscriptFilter, limit: int = 50
) -> list[ConversationSummary]:
    """Conversations with matching messages, the most recently active first."""
    last = func.max(Message.at)
    query = (
        select(
            Conversation.id,
            Conversation.channel,
            Conversation.chat_id,
            # whose lines they are (a chat is linked to one customer at a time)
            func.max(Customer.external_id),
            Conversation.flow,
            Conversation.state,
            func.count(Message.id),
            func.min(Message.at),
            last,
        )
        .join(Conversation, Message.conversation_id == Conversation.id)
        .outerjoin(Customer, Message.customer_id == Customer.id)
        .where(*filters.where())
        .group_by(
            Conversation.id,
            Conversation.channel,
            Conversation.chat_id,
            Conversation.flow,
            Conversation.state,
        )
        .order_by(last.desc(), Conversation.id.desc())
        .limit(limit)
    )
    rows = await session.execute(query)
    return [ConversationSummary(*row) for row in rows]


async def conversation_messages(
    session: AsyncSession, conversation_id: int, limit: int | None = None
) -> tuple[Conversation | None, str | None, list[Message]]:
    """A conversation, its customer's store id, and its messages in order."""
    conv = await session.get(Conversation, conversation_id)
    if conv is None:
        return None, None, []
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.at, Message.id)
    )
    if limit is not None:
        query = query.limit(limit)
    messages = list(await session.scalars(query))
    customer_id = conv.customer_id or next(
        (m.customer_id for m in reversed(messages) if m.customer_id), None
    )
    customer = await session.get(Customer, customer_id) if customer_id else None
    return conv, customer.external_id if customer else None, messages


async def stream_messages(
    session: AsyncSession, filters: TranscriptFilter | Sequence[ColumnElement[bool]]
) -> AsyncIterator[dict[str, Any]]:
    """Matching messages as plain rows (``FIELDS``), in order, read ``BATCH`` at a time.

    ``filters``: the command line's, or the conditions of a web search."""
    where = filters.where() if isinstance(filters, TranscriptFilter) else list(filters)
    query = (
        select(Message, Customer.external_id)
        .outerjoin(Customer, Message.customer_id == Customer.id)
        .where(*where)
        .order_by(Message.id)
        .execution_options(yield_per=BATCH)
    )
    result = await session.stream(query)
    async for message, customer in result:
        yield {
            "id": message.id,
            "conversation_id": message.conversation_id,
            "customer": customer,
            "channel": message.channel,
            "chat_id": message.chat_id,
            "direction": message.direction,
            "flow": message.flow,
            "text": message.text,
            "at": message.at.isoformat(),
        }
        session.expunge(message)  # keep memory flat over a long export


__all__ = [
    "FIELDS",
    "ConversationSummary",
    "TranscriptFilter",
    "conversation_messages",
    "list_conversations",
    "stream_messages",
]
