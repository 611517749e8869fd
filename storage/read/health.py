"""The figures ``/metrics`` and ``/readyz`` read from the database when asked.

Each is a few indexed statements, cheap enough for a scrape every few seconds on an
outbox of any size: the queue through ``ix_outbox_status_id`` (only queued rows are
read), the last sent and failed rows as the highest id of their status on the same
index, follow-ups due through ``ix_followups_status_due_at``, tickets through their
status index (only active tickets are read: few, however many were ever opened).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FollowUp, OutboxMessage, Ticket
from storage.read.sla import Targets, active_events, remaining_of
from storage.tickets import ACTIVE


@dataclass(frozen=True)
class Queue:
    """One channel's queued outbox rows."""

    channel: str
    queued: int
    oldest: datetime  # the oldest queued row's created_at
    first_due: datetime  # the earliest time one of them may be sent (not_before)


async def outbox_queues(session: AsyncSession) -> list[Queue]:
    """Each channel with queued rows, by name."""
    due = func.coalesce(OutboxMessage.not_before, OutboxMessage.created_at)
    rows = await session.execute(
        select(
            OutboxMessage.channel,
            func.count(),
            func.min(OutboxMessage.created_at),
            func.min(due),
        )
        .where(OutboxMessage.status == "queued")
        .group_by(OutboxMessage.channel)
        .order_by(OutboxMessage.channel)
    )
    return [Queue(channel, int(n), oldest, first) for channel, n, oldest, first in rows]


async def last_progress(session: AsyncSession) -> datetime | None:
    """When the outbox last recorded a result (the newest sent or failed row's time).

    The newest by id, not by time (no index on the times): a retried row sent after a
    newer one is missed, which only makes the answer older, never newer than the truth.
    """
    times: list[datetime] = []
    for status, column in (
        ("sent", OutboxMessage.sent_at),
        ("failed", OutboxMessage.failed_at),
    ):
        newest = select(func.max(OutboxMessage.id)).where(OutboxMessage.status == status)
        at = await session.scalar(
            select(column).where(OutboxMessage.id == newest.scalar_subquery())
        )
        if at is not None:
            times.append(at)
    return max(times) if times else None


async def followups_due(session: AsyncSession, now: datetime) -> int:
    """Follow-ups whose time came and that are not sent yet."""
    stmt = select(func.count()).where(FollowUp.status == "pending", FollowUp.due_at <= now)
    return int(await session.scalar(stmt) or 0)


@dataclass(frozen=True)
class TicketFigures:
    open: int  # active: open or waiting on the customer
    breaching: dict[str, int]  # active tickets past a target, by target


async def ticket_figures(session: AsyncSession, targets: Targets, now: datetime) -> TicketFigures:
    """Active tickets, and those past their first-response or resolution target."""
    tickets = list(await session.scalars(select(Ticket).where(Ticket.status.in_(ACTIVE))))
    events = await active_events(session, tickets)
    breaching = {"first_response": 0, "resolution": 0}
    for ticket in tickets:
        left = remaining_of(ticket, events.get(ticket.id, []), targets, now)
        if left is not None and left[2] < 0:
            breaching[left[0]] += 1
    return TicketFigures(len(tickets), breaching)


__all__ = [
    "Queue",
    "TicketFigures",
    "followups_due",
    "last_progress",
    "outbox_queues",
    "ticket_figures",
]
