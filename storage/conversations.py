"""Conversation rows, the transcript, and the record of handled updates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, Customer, HandledUpdate, Message


def _insert(session: AsyncSession, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def mark_handled(session: AsyncSession, channel: str, update_id: str, now: datetime) -> bool:
    """Record the update as handled; False when it was handled before (a duplicate)."""
    if not update_id:
        return True
    stmt = (
        _insert(session, HandledUpdate)
        .values(channel=channel, update_id=update_id, handled_at=now)
        .on_conflict_do_nothing()
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def load_or_create(
    session: AsyncSession, channel: str, chat_id: str, now: datetime
) -> Conversation:
    """The chat's conversation row, locked for this transaction (created idle if new)."""
    query = (
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.chat_id == chat_id)
        .with_for_update()
    )
    conv = await session.scalar(query)
    if conv is not None:
        return conv
    stmt = (
        _insert(session, Conversation)
        .values(
            channel=channel,
            chat_id=chat_id,
            flow="idle",
            state="idle",
            data={},
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )
    await session.execute(stmt)
    conv = await session.scalar(query)
    assert conv is not None
    return conv


def save_state(
    conv: Conversation, flow: str, state: str, data: Mapping[str, Any], now: datetime
) -> None:
    conv.flow = flow
    conv.state = state
    conv.data = dict(data)
    conv.updated_at = now


def record_incoming(
    session: AsyncSession,
    conv: Conversation,
    customer: Customer | None,
    text: str,
    payload: dict[str, Any] | None,
    now: datetime,
) -> None:
    """One incoming transcript line."""
    session.add(
        Message(
            conversation_id=conv.id,
            customer_id=customer.id if customer else None,
            channel=conv.channel,
            chat_id=conv.chat_id,
            direction="in",
            flow=conv.flow,
            text=text,
            payload=payload,
            at=now,
        )
    )
