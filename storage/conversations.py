"""Conversation rows, the transcript, and the record of handled updates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, Conversation, Customer, HandledUpdate, Message, Ticket
from storage.tickets import ACTIVE


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


@dataclass
class Chat:
    """What one update needs of its chat, read in one statement by ``load_chat``."""

    conversation: Conversation
    identity: ChannelIdentity | None
    customer: Customer | None
    active_ticket: int | None  # the customer's open / waiting ticket (see active_ticket_of)


def _chat_query(channel: str, chat_id: str) -> Select[Any]:
    ticket = (
        select(Ticket.id)
        .where(Ticket.customer_id == Customer.id, Ticket.status.in_(ACTIVE))
        .order_by(Ticket.opened_at.desc(), Ticket.id.desc())
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )
    return (
        select(Conversation, ChannelIdentity, Customer, ticket)
        .outerjoin(
            ChannelIdentity,
            (ChannelIdentity.channel == Conversation.channel)
            & (ChannelIdentity.chat_id == Conversation.chat_id),
        )
        .outerjoin(Customer, Customer.id == ChannelIdentity.customer_id)
        .where(Conversation.channel == channel, Conversation.chat_id == chat_id)
        .with_for_update(of=Conversation)
    )


async def load_chat(session: AsyncSession, channel: str, chat_id: str, now: datetime) -> Chat:
    """The chat's conversation (locked, created idle if new), linked customer and ticket.

    One statement for a known chat, where ``load_or_create``, ``identity_for_chat``,
    a customer lookup and ``active_ticket_of`` would take four.
    """
    query = _chat_query(channel, chat_id)
    row = (await session.execute(query)).first()
    if row is None:
        await load_or_create(session, channel, chat_id, now)
        row = (await session.execute(query)).first()
        assert row is not None
    conv, identity, customer, ticket = row
    return Chat(conv, identity, customer, ticket)


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
