"""The outbox: messages written in the same transaction as the state that caused them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.outbox_body import OutboxBody
from storage.sqlite.prepared import Prepared
from storage.sqlite.write_buffer import write

_INSERT = Prepared(insert(OutboxMessage))


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    body: OutboxBody,
    purpose: str,
    now: datetime,
    customer_id: int | None = None,
    not_before: datetime | None = None,
    deadline: datetime | None = None,
    followup_id: int | None = None,
) -> None:
    """Queue one message; it is sent only once the surrounding transaction commits.

    A plain INSERT, buffered with the transaction's other rows when it buffers
    (``storage.sqlite.write_buffer``): rows get their ids, the sending order of a chat, in
    the order they were queued, and no unit of work is spent on rows nothing reads.
    Network and server errors are retried until ``deadline`` (None: the sender's
    ``OUTBOX_RETRY_FOR`` after ``now``); ``followup_id`` names the follow-up an
    invitation is for.
    """
    await write(
        session,
        _INSERT,
        {
            "channel": channel,
            "chat_id": chat_id,
            "customer_id": customer_id,
            "purpose": purpose,
            "body": body.to_json(),
            "status": "queued",
            "created_at": now,
            "not_before": not_before,
            "attempts": 0,
            "unknowns": 0,
            "deadline": deadline,
            "followup_id": followup_id,
        },
    )


async def queued_on(session: AsyncSession, channel: str) -> int:
    """How many messages wait to go out on ``channel``."""
    query = select(func.count()).where(
        OutboxMessage.channel == channel, OutboxMessage.status == "queued"
    )
    return int(await session.scalar(query) or 0)
