"""Chats reached by a customer's phone number alone (WhatsApp): no link needed.

A channel whose chats are phone numbers can start a conversation with any customer
the store has a number for (outside the service window, through an approved
template). Such a chat is recorded as the customer's channel identity, with no user id
until they write; if they answer from another form of the number (Brazil's ninth
digit), the engine moves the chat to it (``storage.links.move_chat``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, Customer, FollowUp


def chat_of_phone(phone: str) -> str:
    """The chat id of an E.164 number on a phone-number channel: its digits."""
    return phone.lstrip("+")


async def reach_by_phone(
    session: AsyncSession, channel: str, customer_id: int, now: datetime
) -> ChannelIdentity | None:
    """The customer's chat on ``channel`` made from their phone, if they have one and the
    number is not another customer's chat there already."""
    customer = await session.get(Customer, customer_id)
    if customer is None or not customer.phone or customer.anonymised_at is not None:
        return None
    chat_id = chat_of_phone(customer.phone)
    taken = await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.chat_id == chat_id
        )
    )
    if taken is not None:
        return taken if taken.customer_id == customer_id else None
    identity = ChannelIdentity(
        customer_id=customer_id, channel=channel, chat_id=chat_id, linked_at=now
    )
    session.add(identity)
    await session.flush()
    return identity


async def reach_due_by_phone(
    session: AsyncSession, channel: str, now: datetime, *, limit: int = 500
) -> int:
    """Give customers with a due follow-up, a phone and no chat anywhere a chat on
    ``channel`` (so the scheduler's pass invites them); returns how many."""
    query = (
        select(Customer.id, Customer.phone)
        .join(FollowUp, FollowUp.customer_id == Customer.id)
        .where(
            FollowUp.status == "pending",
            FollowUp.due_at <= now,
            Customer.phone.is_not(None),
            Customer.opted_out_at.is_(None),
            Customer.anonymised_at.is_(None),
            ~exists().where(ChannelIdentity.customer_id == Customer.id),
        )
        .group_by(Customer.id, Customer.phone)
        .order_by(Customer.id)
        .limit(limit)
    )
    # A few statements for the whole batch: the scheduler holds SQLite's one writer
    # while this runs, and the outbox sender's marks wait for it.
    wanted: dict[str, int] = {}
    for customer_id, phone in (await session.execute(query)).all():
        if phone:  # (the query keeps only customers with one)
            wanted.setdefault(chat_of_phone(phone), customer_id)  # shared number: the first
    if not wanted:
        return 0
    taken = set(
        (
            await session.scalars(
                select(ChannelIdentity.chat_id).where(
                    ChannelIdentity.channel == channel, ChannelIdentity.chat_id.in_(wanted)
                )
            )
        ).all()
    )
    fresh = [
        ChannelIdentity(customer_id=customer_id, channel=channel, chat_id=chat, linked_at=now)
        for chat, customer_id in wanted.items()
        if chat not in taken
    ]
    session.add_all(fresh)
    await session.flush()
    return len(fresh)


__all__ = ["chat_of_phone", "reach_by_phone", "reach_due_by_phone"]
