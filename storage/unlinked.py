"""Follow-ups waiting for their customer to link a chat: the backlog ``postsale link`` shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, Customer, FollowUp


def has_linked_chat() -> ColumnElement[bool]:
    """Whether the follow-up's customer has a chat linked (for a WHERE over follow-ups)."""
    return exists().where(ChannelIdentity.customer_id == FollowUp.customer_id)


def _unlinked_where(now: datetime | None) -> ColumnElement[bool]:
    where = and_(
        FollowUp.status == "pending",
        ~has_linked_chat(),
        Customer.opted_out_at.is_(None),
        Customer.anonymised_at.is_(None),
    )
    return and_(where, FollowUp.due_at <= now) if now is not None else where


async def waiting_for_link(session: AsyncSession, now: datetime) -> int:
    """How many due follow-ups wait for their customer to link a chat."""
    query = (
        select(func.count())
        .select_from(FollowUp)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .where(_unlinked_where(now))
    )
    return int(await session.scalar(query) or 0)


@dataclass(frozen=True)
class UnlinkedCustomer:
    """A customer with a delivered order to follow up and no chat linked yet."""

    customer_id: int
    external_id: str
    name: str | None
    phone: str | None
    email: str | None
    first_due_at: datetime
    pending: int


async def unlinked_customers(
    session: AsyncSession, *, due_by: datetime | None = None, limit: int | None = None
) -> Sequence[UnlinkedCustomer]:
    """Customers whose pending follow-ups wait for a linked chat, earliest due first."""
    first_due = func.min(FollowUp.due_at)
    query = (
        select(
            Customer.id,
            Customer.external_id,
            Customer.name,
            Customer.phone,
            Customer.email,
            first_due,
            func.count(FollowUp.id),
        )
        .join(FollowUp, FollowUp.customer_id == Customer.id)
        .where(_unlinked_where(due_by))
        .group_by(Customer.id, Customer.external_id, Customer.name, Customer.phone, Customer.email)
        .order_by(first_due, Customer.id)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = (await session.execute(query)).all()
    return [UnlinkedCustomer(*row) for row in rows]
