"""A customer's data rights: a copy of their data (/mydata) and forgetting them (/forget).

Forgetting keeps what the KPIs count and nothing that names the person: the customer
row stays (orders, scores and tickets still point at it, so NPS, CSAT, ticket times,
repeat purchases and LTV stay true) but loses name, phone, e-mail, time zone and the
store's customer id; chat links and link tokens are deleted; transcript lines, survey
reasons, ticket descriptions and ticket notes lose their text; queued messages to the
person are dropped and sent ones emptied; nothing more will be sent to them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Base,
    ChannelIdentity,
    Conversation,
    Customer,
    FollowUp,
    LinkToken,
    Message,
    Order,
    OutboxMessage,
    SurveyResponse,
    Ticket,
    TicketEvent,
)
from storage.outbox_body import CUSTOMER_REF, OutboxBody

EXPORT_MESSAGES_MAX = 5000


@dataclass(frozen=True)
class ForgetReport:
    """What forgetting did (counts of rows touched), for the customer and the log."""

    customer_id: int
    chat_links: int
    messages: int
    answers_kept: int
    tickets_kept: int
    queued_dropped: int


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        out[name] = _iso(value) if isinstance(value, datetime) else value
    return out


async def export_customer_data(session: AsyncSession, customer_id: int) -> dict[str, Any]:
    """Everything we keep about the customer, as plain JSON-ready data."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return {}
    c_fields = ("external_id", "name", "phone", "email", "locale", "timezone", "created_at")
    data: dict[str, Any] = {
        "customer": _row(customer, (*c_fields, "opted_out_at", "last_surveyed_at", "anonymised_at"))
    }
    identities = await session.scalars(
        select(ChannelIdentity).where(ChannelIdentity.customer_id == customer_id)
    )
    data["chats"] = [
        _row(i, ("channel", "chat_id", "user_id", "language_code", "linked_at")) for i in identities
    ]
    orders = await session.scalars(
        select(Order).where(Order.customer_id == customer_id).order_by(Order.purchased_at)
    )
    data["orders"] = [
        _row(o, ("external_id", "total_cents", "currency", "purchased_at", "delivered_at"))
        for o in orders
    ]
    answers = await session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.customer_id == customer_id)
        .order_by(SurveyResponse.answered_at)
    )
    data["survey_answers"] = [
        _row(a, ("kind", "score", "reason", "source", "answered_at")) for a in answers
    ]
    tickets = list(
        await session.scalars(
            select(Ticket).where(Ticket.customer_id == customer_id).order_by(Ticket.id)
        )
    )
    t_fields = ("id", "category", "description", "status", "opened_at", "resolved_at", "rating")
    data["tickets"] = []
    for ticket in tickets:
        events = await session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.at, TicketEvent.id)
        )
        entry = _row(ticket, t_fields)
        entry["events"] = [_row(e, ("kind", "actor", "note", "at")) for e in events]
        data["tickets"].append(entry)
    messages = await session.scalars(
        select(Message)
        .where(Message.customer_id == customer_id)
        .order_by(Message.at, Message.id)
        .limit(EXPORT_MESSAGES_MAX)
    )
    data["messages"] = [_row(m, ("direction", "channel", "text", "at")) for m in messages]
    return data


def _pseudonym(customer: Customer) -> str:
    # Unique like the original (the column is unique) but not reversible to it.
    digest = hashlib.sha256(f"{customer.id}:{customer.external_id}".encode()).hexdigest()
    return f"forgotten-{digest[:24]}"


async def forget_customer(session: AsyncSession, customer_id: int, now: datetime) -> ForgetReport:
    """Erase the customer's personal data, keeping anonymous scores and ticket timings."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return ForgetReport(customer_id, 0, 0, 0, 0, 0)
    chats = await _count(
        session, select(ChannelIdentity.id).where(ChannelIdentity.customer_id == customer_id)
    )
    ticket_ids = list(
        await session.scalars(select(Ticket.id).where(Ticket.customer_id == customer_id))
    )
    messages = await _erase_messages(session, customer_id, ticket_ids)
    await _blank(
        session,
        Conversation,
        Conversation.customer_id == customer_id,
        customer_id=None,
        locale=None,
    )
    await session.execute(delete(ChannelIdentity).where(ChannelIdentity.customer_id == customer_id))
    await session.execute(delete(LinkToken).where(LinkToken.customer_id == customer_id))
    await _blank(session, SurveyResponse, SurveyResponse.customer_id == customer_id, reason=None)
    answers = await _count(
        session, select(SurveyResponse.id).where(SurveyResponse.customer_id == customer_id)
    )
    if ticket_ids:
        await _blank(session, Ticket, Ticket.id.in_(ticket_ids), description=None)
        await _blank(session, TicketEvent, TicketEvent.ticket_id.in_(ticket_ids), note=None)
    queued = await _erase_outbox(session, customer_id)
    pending = and_(FollowUp.customer_id == customer_id, FollowUp.status == "pending")
    await _blank(session, FollowUp, pending, status="skipped", skip_reason="forgotten")
    await _anonymise(session, customer, now)
    return ForgetReport(
        customer_id=customer_id,
        chat_links=chats,
        messages=messages,
        answers_kept=answers,
        tickets_kept=len(ticket_ids),
        queued_dropped=queued,
    )


async def _count(session: AsyncSession, ids: Select[int]) -> int:
    return len(list(await session.scalars(ids)))


async def _blank(
    session: AsyncSession, model: type[Base], where: ColumnElement[bool], **values: Any
) -> None:
    """``UPDATE model SET values WHERE where``, leaving the session's objects alone
    (``_anonymise`` refreshes them at the end)."""
    await session.execute(
        update(model).where(where).values(**values).execution_options(synchronize_session=False)
    )


async def _erase_messages(session: AsyncSession, customer_id: int, ticket_ids: list[int]) -> int:
    """Blank the customer's transcript lines; how many there were."""
    conv_ids = list(
        await session.scalars(
            select(Conversation.id).where(Conversation.customer_id == customer_id)
        )
    )
    # What operators typed to this customer ("/reply N ...") is in their own transcript.
    replies = [Message.text.like(f"/reply {n} %") for n in ticket_ids]
    mine = or_(
        Message.customer_id == customer_id,
        Message.conversation_id.in_(conv_ids),
        Message.payload[CUSTOMER_REF].as_integer() == customer_id,
        *replies,
    )
    messages = await _count(session, select(Message.id).where(mine))
    await _blank(session, Message, mine, text=None, payload=None, customer_id=None)
    return messages


async def _erase_outbox(session: AsyncSession, customer_id: int) -> int:
    """Drop the customer's queued messages and blank the sent ones; how many were dropped."""
    # Messages to operators that showed this customer's data (``OutboxBody.customer_ref``).
    shown = OutboxMessage.body[CUSTOMER_REF].as_integer() == customer_id
    queued = await session.execute(
        delete(OutboxMessage).where(
            or_(OutboxMessage.customer_id == customer_id, shown),
            OutboxMessage.status == "queued",
        )
    )
    blank = OutboxBody().to_json()
    await _blank(session, OutboxMessage, shown, body=blank)
    mine = OutboxMessage.customer_id == customer_id
    await _blank(session, OutboxMessage, mine, body=blank, customer_id=None)
    return int(getattr(queued, "rowcount", 0) or 0)


async def _anonymise(session: AsyncSession, customer: Customer, now: datetime) -> None:
    customer.external_id = _pseudonym(customer)
    customer.name = customer.phone = customer.email = customer.timezone = None
    customer.opted_out_at = customer.opted_out_at or now
    customer.anonymised_at = now
    await session.flush()
    # Objects loaded earlier in this transaction must not write old values back.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Message | Conversation | Ticket | TicketEvent | SurveyResponse):
            await session.refresh(obj)


__all__ = ["ForgetReport", "export_customer_data", "forget_customer"]
