"""The sending side of the outbox in SQL: which message of each chat is next, and results."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, OutboxMessage

BLOCKED = "blocked"


@dataclass(frozen=True)
class Head:
    """The oldest queued message of one chat: the only one of that chat that may go next."""

    id: int
    channel: str
    chat_id: str
    customer_id: int | None
    body: dict[str, Any]
    attempts: int
    not_before: datetime | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.chat_id)


def _heads_query() -> Any:
    head = func.min(OutboxMessage.id).label("head")
    # ``channel || ''``: SQLite would otherwise walk ix_outbox_chat (every message of
    # the channel, sent ones too: a read grew with the outbox) instead of taking the
    # queued messages from ix_outbox_status_id.
    channel = OutboxMessage.channel + ""
    heads = (
        select(head)
        .where(
            OutboxMessage.status == "queued",
            channel.in_(bindparam("channels", expanding=True)),
        )
        .group_by(OutboxMessage.channel, OutboxMessage.chat_id)
        .order_by(head)
        .limit(bindparam("limit"))
    )
    # One statement: the rows whose ids the grouped subquery picks.
    return (
        select(*(getattr(OutboxMessage, name) for name in _HEAD_COLUMNS))
        .where(OutboxMessage.id.in_(heads.scalar_subquery()))
        .order_by(OutboxMessage.id)
    )


_HEAD_COLUMNS = ("id", "channel", "chat_id", "customer_id", "body", "attempts", "not_before")
# Built once: building and keying a statement costs more than running it here.
_HEADS = _heads_query()


async def chat_heads(
    session: AsyncSession, channels: Collection[str], limit: int
) -> Sequence[Head]:
    """The head message of up to ``limit`` chats with queued messages, oldest first.

    Only each chat's first queued message is returned: a chat's next message waits
    for the previous one, while a busy chat never hides the other chats.
    """
    connection = await session.connection()
    result = await connection.execute(_HEADS, {"channels": list(channels), "limit": limit})
    return [Head(*row) for row in result]


def _mark_sent_statement() -> Any:
    table = cast(Table, OutboxMessage.__table__)
    return (
        update(table)
        .where(table.c.id == bindparam("message_id"), table.c.status == "queued")
        .values(
            status="sent",
            sent_at=bindparam("now"),
            remote_id=bindparam("remote"),
            attempts=table.c.attempts + 1,
        )
    )


_MARK_SENT = _mark_sent_statement()


async def mark_sent(session: AsyncSession, sent: Sequence[tuple[int, str]], now: datetime) -> None:
    """Mark messages sent: (outbox id, remote message id) pairs, in one statement."""
    if not sent:
        return
    # Core, not ORM: an executemany of one UPDATE with the ids bound per row.
    params = [{"message_id": mid, "remote": remote[:64], "now": now} for mid, remote in sent]
    connection = await session.connection()
    await connection.execute(_MARK_SENT, params)


async def mark_retry(
    session: AsyncSession, message_id: int, attempts: int, error: str, not_before: datetime
) -> None:
    """Keep the message queued, to be tried again no earlier than ``not_before``."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "queued")
        .values(attempts=attempts, error=error, not_before=not_before)
    )


async def mark_failed(
    session: AsyncSession, message_id: int, reason: str, now: datetime, attempts: int
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "queued")
        .values(status="failed", failed_at=now, error=reason, attempts=attempts)
    )


async def mark_blocked(session: AsyncSession, head: Head, reason: str, now: datetime) -> int:
    """The person blocked the bot: fail the chat's queued messages, mark them unreachable."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == head.channel,
            OutboxMessage.chat_id == head.chat_id,
            OutboxMessage.status == "queued",
        )
        .values(status="failed", failed_at=now, error=f"{BLOCKED}: {reason}"[:500])
        .execution_options(synchronize_session=False)
    )
    if head.customer_id is not None:
        await session.execute(
            update(Customer)
            .where(Customer.id == head.customer_id, Customer.unreachable_at.is_(None))
            .values(unreachable_at=now)
        )
    count: int = getattr(result, "rowcount", 0)
    return max(count, 0)


@dataclass(frozen=True)
class OutboxCounts:
    queued: int
    sent: int
    failed: int


async def outbox_counts(session: AsyncSession) -> OutboxCounts:
    rows = (
        await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
    ).all()
    by_status = {status: int(n) for status, n in rows}
    return OutboxCounts(
        by_status.get("queued", 0), by_status.get("sent", 0), by_status.get("failed", 0)
    )


async def queued_count(session: AsyncSession) -> int:
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "queued")
    return int(await session.scalar(query) or 0)


async def latest_failures(session: AsyncSession, limit: int = 20) -> Sequence[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "failed")
        .order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()
