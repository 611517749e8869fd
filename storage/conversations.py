"""Conversation rows, the transcript, and the record of handled updates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import ChannelIdentity, Conversation, Customer, HandledUpdate, Message, Ticket
from storage.prepared import Prepared, execute
from storage.tickets import ACTIVE
from storage.write_buffer import write


def _insert(session: AsyncSession, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring_duplicates(table: Any) -> dict[str, Any]:
    """``INSERT ... ON CONFLICT DO NOTHING`` per database dialect, built once.

    The values come with each execution: building and keying a statement per call
    costs more than running it.
    """
    return {
        "postgresql": postgresql.insert(table).on_conflict_do_nothing(),
        "sqlite": sqlite.insert(table).on_conflict_do_nothing(),
    }


_MARK = Prepared(per_dialect=insert_ignoring_duplicates(HandledUpdate))


async def mark_handled(session: AsyncSession, channel: str, update_id: str, now: datetime) -> bool:
    """Record the update as handled; False when it was handled before (a duplicate)."""
    if not update_id:
        return True
    # A plain INSERT: its rowcount says whether the row was new.
    row = {"channel": channel, "update_id": update_id, "handled_at": now}
    return bool(await execute(session, _MARK, row))


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


def _chat_query_built() -> Select[Any]:
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
        .where(
            Conversation.channel == bindparam("channel"),
            Conversation.chat_id == bindparam("chat_id"),
        )
        .with_for_update(of=Conversation)
    )


_CHAT_QUERY = _chat_query_built()


async def load_chat(session: AsyncSession, channel: str, chat_id: str, now: datetime) -> Chat:
    """The chat's conversation (locked, created idle if new), linked customer and ticket.

    One statement for a known chat, where ``load_or_create``, ``identity_for_chat``,
    a customer lookup and ``active_ticket_of`` would take four.
    """
    params = {"channel": channel, "chat_id": chat_id}
    row = (await session.execute(_CHAT_QUERY, params)).first()
    if row is None:
        await load_or_create(session, channel, chat_id, now)
        row = (await session.execute(_CHAT_QUERY, params)).first()
        assert row is not None
    conv, identity, customer, ticket = row
    return Chat(conv, identity, customer, ticket)


_SAVE_STATE = Prepared(
    update(Conversation)
    .where(Conversation.id == bindparam("conv_id"))
    .values(
        flow=bindparam("b_flow"),
        state=bindparam("b_state"),
        data=bindparam("b_data"),
        updated_at=bindparam("b_at"),
    )
)


async def save_state(
    session: AsyncSession,
    conv: Conversation,
    flow: str,
    state: str,
    data: Mapping[str, Any],
    now: datetime,
) -> None:
    """Write the conversation's new state, by primary key.

    A plain UPDATE (buffered, see ``storage.write_buffer``) rather than a dirty object
    for the next flush: the loaded object takes the values as already stored, so no
    unit of work is spent on it.
    """
    stored = dict(data)
    row = {"conv_id": conv.id, "b_flow": flow, "b_state": state, "b_data": stored, "b_at": now}
    await write(session, _SAVE_STATE, row)
    for name, value in (("flow", flow), ("state", state), ("data", stored), ("updated_at", now)):
        set_committed_value(conv, name, value)


_INSERT_MESSAGE = Prepared(insert(Message))


async def write_message(
    session: AsyncSession,
    *,
    conversation_id: int | None,
    customer_id: int | None,
    channel: str,
    chat_id: str,
    direction: str,
    flow: str | None,
    text: str | None,
    payload: dict[str, Any] | None,
    at: datetime,
) -> None:
    """One transcript line (buffered with the transaction's other rows, if it buffers)."""
    await write(
        session,
        _INSERT_MESSAGE,
        {
            "conversation_id": conversation_id,
            "customer_id": customer_id,
            "channel": channel,
            "chat_id": chat_id,
            "direction": direction,
            "flow": flow,
            "text": text,
            "payload": payload,
            "at": at,
        },
    )


async def record_incoming(
    session: AsyncSession,
    conv: Conversation,
    customer: Customer | None,
    text: str,
    payload: dict[str, Any] | None,
    now: datetime,
) -> None:
    """One incoming transcript line."""
    await write_message(
        session,
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
