"""Ticket lifecycle: every status change stamped, with the KPI seconds kept exact.

Statuses: ``open`` -> (operator reply) ``waiting_customer`` -> (customer writes)
``open`` ... -> ``resolved`` -> ``closed`` (customer confirms) or back to ``open``
(reopened). Time spent waiting on the customer is summed in ``waiting_s``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Ticket, TicketEvent

ACTIVE = ("open", "waiting_customer")


class TicketStateError(ValueError):
    """The change asked for does not apply to the ticket's current status."""


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def _event(
    ticket: Ticket, kind: str, actor: str, at: datetime, note: str | None = None
) -> TicketEvent:
    return TicketEvent(ticket_id=ticket.id, kind=kind, actor=actor, note=note, at=at)


async def open_ticket(
    session: AsyncSession,
    *,
    customer_id: int | None,
    order_id: int | None,
    source: str,
    category: str,
    description: str | None,
    now: datetime,
    actor: str = "customer",
    theme: str | None = None,
) -> Ticket:
    """Open a ticket (``source`` is ``complaint`` or ``detractor``); ``theme``: the
    description's (``flows.themes``), as the model tagged it."""
    ticket = Ticket(
        customer_id=customer_id,
        order_id=order_id,
        source=source,
        category=category,
        description=description,
        status="open",
        opened_at=now,
        waiting_s=0,
        reopened_count=0,
        theme=theme,
        theme_source=None if theme is None else "model",
    )
    session.add(ticket)
    await session.flush()
    session.add(_event(ticket, "opened", actor, now, description))
    return ticket


async def active_ticket_of(session: AsyncSession, customer_id: int) -> Ticket | None:
    """The customer's most recent ticket that is still open or waiting on them."""
    return await session.scalar(
        select(Ticket)
        .where(Ticket.customer_id == customer_id, Ticket.status.in_(ACTIVE))
        .order_by(Ticket.opened_at.desc(), Ticket.id.desc())
        .limit(1)
    )


def _stop_waiting(ticket: Ticket, now: datetime) -> None:
    if ticket.waiting_since is not None:
        ticket.waiting_s += _seconds(ticket.waiting_since, now)
        ticket.waiting_since = None


async def customer_message(
    session: AsyncSession, ticket: Ticket, text: str | None, now: datetime
) -> None:
    """The customer wrote on an active ticket: it is back on the operators' side."""
    _stop_waiting(ticket, now)
    if ticket.status == "waiting_customer":
        ticket.status = "open"
    session.add(_event(ticket, "customer_message", "customer", now, text))


async def operator_reply(
    session: AsyncSession, ticket: Ticket, operator: str, text: str, now: datetime
) -> bool:
    """An operator answered; the first answer stamps the first-response time.

    Returns True when this was the first response.
    """
    if ticket.status in ("closed",):
        raise TicketStateError(f"ticket #{ticket.id} is closed")
    first = ticket.first_response_at is None
    if first:
        ticket.first_response_at = now
        ticket.first_response_s = _seconds(ticket.opened_at, now)
        session.add(_event(ticket, "first_response", f"op:{operator}", now))
    session.add(_event(ticket, "reply", f"op:{operator}", now, text))
    if ticket.status == "open":
        ticket.status = "waiting_customer"
        ticket.waiting_since = now
        session.add(_event(ticket, "waiting_customer", "system", now))
    return first


async def resolve(session: AsyncSession, ticket: Ticket, actor: str, now: datetime) -> None:
    """Mark resolved; the customer is then asked to confirm (close) or reopen."""
    if ticket.status not in ACTIVE:
        raise TicketStateError(f"ticket #{ticket.id} is {ticket.status}")
    _stop_waiting(ticket, now)
    ticket.status = "resolved"
    ticket.resolved_at = now
    ticket.resolution_s = _seconds(ticket.opened_at, now)
    session.add(_event(ticket, "resolved", actor, now))


async def close(
    session: AsyncSession,
    ticket: Ticket,
    actor: str,
    now: datetime,
    rating: int | None = None,
) -> None:
    """Close a resolved ticket (the customer confirmed), optionally with a 1-5 rating."""
    if ticket.status == "closed":
        raise TicketStateError(f"ticket #{ticket.id} is already closed")
    if ticket.status != "resolved":
        # Closing straight from open counts as resolving it now.
        await resolve(session, ticket, actor, now)
    ticket.status = "closed"
    ticket.closed_at = now
    if rating is not None:
        ticket.rating = rating
    session.add(_event(ticket, "closed", actor, now, None if rating is None else str(rating)))


async def rate(session: AsyncSession, ticket: Ticket, rating: int, now: datetime) -> None:
    """The customer's 1-5 rating of how the ticket was handled."""
    if not 1 <= rating <= 5:
        raise ValueError("rating is 1-5")
    ticket.rating = rating
    session.add(_event(ticket, "rated", "customer", now, str(rating)))


async def reopen(session: AsyncSession, ticket: Ticket, actor: str, now: datetime) -> None:
    """Back to open; the resolution time will be measured at the next resolution."""
    if ticket.status in ACTIVE:
        raise TicketStateError(f"ticket #{ticket.id} is already {ticket.status}")
    ticket.status = "open"
    ticket.resolved_at = None
    ticket.resolution_s = None
    ticket.closed_at = None
    ticket.reopened_count += 1
    session.add(_event(ticket, "reopened", actor, now))


async def assign(
    session: AsyncSession, ticket: Ticket, assignee: str, actor: str, now: datetime
) -> None:
    ticket.assignee = assignee
    session.add(_event(ticket, "assigned", actor, now, assignee))
