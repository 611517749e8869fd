"""Conversation rows, the transcript, and the record of handled updates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, Conversation, Customer, HandledUpdate, Message, Ticket
from storage.sqlite.prepared import Prepared, execute, fetch
from storage.sqlite.write_buffer import write
from storage.tickets import ACTIVE


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


@dataclass
class ConversationRow:
    """A chat's conversation as an update reads it (a plain row, not an ORM object)."""

    id: int
    channel: str
    chat_id: str
    customer_id: int | None
    flow: str
    state: str
    data: dict[str, Any]
    locale: str | None


@dataclass
class CustomerRow:
    """What the engine reads of the customer linked to a chat."""

    id: int
    name: str | None
    locale: str | None
    opted_out_at: datetime | None


@dataclass
class Chat:
    """What one update needs of its chat, read in one statement by ``load_chat``."""

    conversation: ConversationRow
    customer: CustomerRow | None
    active_ticket: int | None  # the customer's open / waiting ticket (see active_ticket_of)


_CONVERSATION_COLUMNS = (
    Conversation.id,
    Conversation.channel,
    Conversation.chat_id,
    Conversation.customer_id,
    Conversation.flow,
    Conversation.state,
    Conversation.data,
    Conversation.locale,
)
_CUSTOMER_COLUMNS = (Customer.id, Customer.name, Customer.locale, Customer.opted_out_at)


def chat_query() -> Any:
    """A chat's conversation (locked), linked customer and active ticket, by channel and chat."""
    ticket = (
        select(Ticket.id)
        # Equalities, not IN: an IN list is expanded per execution (storage.sqlite.prepared).
        .where(Ticket.customer_id == Customer.id, or_(*(Ticket.status == s for s in ACTIVE)))
        .order_by(Ticket.opened_at.desc(), Ticket.id.desc())
        .limit(1)
        .correlate(Customer)
        .scalar_subquery()
    )
    return (
        select(*_CONVERSATION_COLUMNS, *_CUSTOMER_COLUMNS, ticket)
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


_CHAT = Prepared(chat_query())
_NEW_CONVERSATION = Prepared(per_dialect=insert_ignoring_duplicates(Conversation))
_CUSTOMER = Prepared(select(*_CUSTOMER_COLUMNS).where(Customer.id == bindparam("customer_id")))


async def load_chat(session: AsyncSession, channel: str, chat_id: str, now: datetime) -> Chat:
    """The chat's conversation (locked, created idle if new), linked customer and ticket.

    One statement for a known chat. Rows, not ORM objects: the update changes them
    with plain statements (``save_state``, ``set_conversation_customer``, ...).
    """
    params = {"channel": channel, "chat_id": chat_id}
    rows = await fetch(session, _CHAT, params)
    if not rows:
        await execute(
            session,
            _NEW_CONVERSATION,
            {
                "channel": channel,
                "chat_id": chat_id,
                "customer_id": None,
                "flow": "idle",
                "state": "idle",
                "data": {},
                "locale": None,
                "updated_at": now,
            },
        )
        rows = await fetch(session, _CHAT, params)
    return chat_of(rows[0])


def chat_of(row: Any) -> Chat:
    """A ``Chat`` from a row of the chat query's columns (``chat_query``)."""
    (cid, channel, chat_id, owner, flow, state, data, locale, *linked, ticket) = row
    conv = ConversationRow(cid, channel, chat_id, owner, flow, state, dict(data or {}), locale)
    customer = CustomerRow(*linked) if linked[0] is not None else None
    return Chat(conv, customer, ticket)


async def load_customer(session: AsyncSession, customer_id: int) -> CustomerRow | None:
    rows = await fetch(session, _CUSTOMER, {"customer_id": customer_id})
    return CustomerRow(*rows[0]) if rows else None


def _set_by_id(model: Any, column: str) -> Prepared:
    """``UPDATE <model> SET <column> = :b_value WHERE id = :b_id``."""
    return Prepared(
        update(model).where(model.id == bindparam("b_id")).values({column: bindparam("b_value")})
    )


_SET_CUSTOMER = _set_by_id(Conversation, "customer_id")
_SET_CONVERSATION_LOCALE = _set_by_id(Conversation, "locale")
_SET_CUSTOMER_LOCALE = _set_by_id(Customer, "locale")
_SET_OPTED_OUT = _set_by_id(Customer, "opted_out_at")


async def set_conversation_customer(
    session: AsyncSession, conv: ConversationRow, customer_id: int
) -> None:
    """The chat now belongs to ``customer_id`` (after linking)."""
    if conv.customer_id != customer_id:
        await execute(session, _SET_CUSTOMER, {"b_id": conv.id, "b_value": customer_id})
        conv.customer_id = customer_id


async def set_locale(
    session: AsyncSession, conv: ConversationRow, customer: CustomerRow | None, locale: str
) -> None:
    """The language the customer chose, for this chat and for the customer."""
    await execute(session, _SET_CONVERSATION_LOCALE, {"b_id": conv.id, "b_value": locale})
    conv.locale = locale
    if customer is not None:
        await execute(session, _SET_CUSTOMER_LOCALE, {"b_id": customer.id, "b_value": locale})
        customer.locale = locale


async def set_opted_out(session: AsyncSession, customer: CustomerRow, at: datetime | None) -> None:
    """The customer opted out at ``at`` (None: opted back in)."""
    await execute(session, _SET_OPTED_OUT, {"b_id": customer.id, "b_value": at})
    customer.opted_out_at = at


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
    conv: ConversationRow,
    flow: str,
    state: str,
    data: Mapping[str, Any],
    now: datetime,
) -> None:
    """Write the conversation's new state, by primary key.

    A plain UPDATE, buffered (see ``storage.sqlite.write_buffer``) until a statement
    reads the conversations table; ``conv`` takes the new values.
    """
    stored = dict(data)
    row = {"conv_id": conv.id, "b_flow": flow, "b_state": state, "b_data": stored, "b_at": now}
    await write(session, _SAVE_STATE, row)
    conv.flow, conv.state, conv.data = flow, state, stored


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
    conv: ConversationRow,
    customer: CustomerRow | None,
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
