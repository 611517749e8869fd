"""Tickets opened and resolved per ISO week of a period (the dashboard's bars).

A week's ``opened`` and ``resolved`` are ``compute_kpis``' ``tickets.opened`` and
``tickets.resolved`` for that week: the tickets opened in it, and how many of those are
resolved (or closed) now. One query over the ``opened_at`` index, grouped by week
(Monday 00:00 UTC, as ``storage.read.kpi_weeks``); the first and last weeks hold only
the tickets opened within the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Ticket
from storage.read.kpi_weeks import week_of

__all__ = ["TicketWeek", "ticket_weeks"]


@dataclass(frozen=True)
class TicketWeek:
    """The tickets opened in the ISO week starting ``week_start`` (a Monday)."""

    week_start: date
    opened: int
    resolved: int


def _monday(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


async def ticket_weeks(session: AsyncSession, since: datetime, until: datetime) -> list[TicketWeek]:
    """Every week of ``[since, until)``, oldest first, with its tickets (0 for none)."""
    week = week_of(session, Ticket.opened_at).label("week")
    resolved = func.sum(case((Ticket.resolved_at.is_not(None), 1), else_=0))
    query = (
        select(week, func.count(), resolved)
        .where(Ticket.opened_at >= since, Ticket.opened_at < until)
        .group_by(week)
    )
    found: dict[date, tuple[int, int]] = {}
    for start, opened, done in (await session.execute(query)).all():
        day = start if isinstance(start, date) else date.fromisoformat(str(start))
        found[day] = (int(opened), int(done or 0))
    weeks: list[TicketWeek] = []
    day, last = _monday(since), _monday(until - timedelta(microseconds=1))
    while day <= last:
        opened, done = found.get(day, (0, 0))
        weeks.append(TicketWeek(day, opened, done))
        day += timedelta(days=7)
    return weeks
