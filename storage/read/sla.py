"""Service levels: ticket times in business hours, targets met, and tickets near a breach.

Calendar times (``first_response_s``, ``resolution_s``) come from ``storage.read.kpi``; this
module adds the same times counted in business hours, with the time spent waiting on
the customer taken out of the resolution time (the clock stops while we wait on them).
The waiting spans are read back from the ticket's events (``waiting_customer`` until
the customer writes or the ticket is resolved).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.business_hours import BusinessHours, add_business_time, business_seconds
from storage.models import Ticket, TicketEvent
from storage.tickets import ACTIVE

_WAIT_ENDS = ("customer_message", "resolved", "closed", "reopened")


@dataclass(frozen=True)
class Targets:
    """The business hours and the two targets, in business seconds."""

    hours: BusinessHours
    tz: ZoneInfo
    first_response_s: int
    resolution_s: int


@dataclass(frozen=True)
class Spread:
    median: float
    p90: float


@dataclass(frozen=True)
class TicketTimes:
    """One ticket's times: calendar and business seconds (``*_bs``), None until known."""

    ticket_id: int
    first_response_bs: int | None
    resolution_bs: int | None  # net of waiting on the customer
    waiting_s: int
    waiting_bs: int
    first_response_met: bool | None  # None: not decided yet
    resolution_met: bool | None


@dataclass(frozen=True)
class SlaSummary:
    """Targets met over the tickets opened in a period (only those already decided)."""

    first_response_met: int
    first_response_decided: int
    resolution_met: int
    resolution_decided: int
    first_response_bs: Spread | None
    resolution_bs: Spread | None
    waiting_s: Spread | None

    @property
    def first_response_met_pct(self) -> float | None:
        return _pct(self.first_response_met, self.first_response_decided)

    @property
    def resolution_met_pct(self) -> float | None:
        return _pct(self.resolution_met, self.resolution_decided)


@dataclass(frozen=True)
class NearBreach:
    """A ticket about to miss (or already missing) a target, for an operator alert."""

    ticket_id: int
    kind: str  # "first_response" or "resolution"
    remaining_bs: int  # business seconds left; negative once breached
    due_at: datetime


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def spread(values: Sequence[float]) -> Spread | None:
    """Median and p90, interpolated as ``storage.read.percentiles`` does (R-7); None if empty."""
    if not values:
        return None
    ordered = sorted(values)

    def at(q: float) -> float:
        pos = (len(ordered) - 1) * q
        lo, hi = math.floor(pos), math.ceil(pos)
        return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))

    return Spread(round(at(0.5), 1), round(at(0.9), 1))


def waiting_spans(events: Sequence[TicketEvent], now: datetime) -> list[tuple[datetime, datetime]]:
    """The spans a ticket waited on the customer, from its events in time order."""
    spans: list[tuple[datetime, datetime]] = []
    since: datetime | None = None
    for event in events:
        if event.kind == "waiting_customer" and since is None:
            since = event.at
        elif event.kind in _WAIT_ENDS and since is not None:
            spans.append((since, event.at))
            since = None
    if since is not None:
        spans.append((since, now))
    return spans


def times_of(
    ticket: Ticket, events: Sequence[TicketEvent], targets: Targets, now: datetime
) -> TicketTimes:
    """A ticket's business-hours figures and whether each target was met."""
    hours, tz = targets.hours, targets.tz
    spans = waiting_spans(events, now)
    waiting_bs = sum(business_seconds(a, b, hours, tz) for a, b in spans)
    waiting_s = sum(int((b - a).total_seconds()) for a, b in spans)
    first_bs: int | None = None
    first_met: bool | None = None
    if ticket.first_response_at is not None:
        first_bs = business_seconds(ticket.opened_at, ticket.first_response_at, hours, tz)
        first_met = first_bs <= targets.first_response_s
    elif business_seconds(ticket.opened_at, now, hours, tz) > targets.first_response_s:
        first_met = False
    resolution_bs: int | None = None
    resolution_met: bool | None = None
    if ticket.resolved_at is not None:
        gross = business_seconds(ticket.opened_at, ticket.resolved_at, hours, tz)
        resolution_bs = max(0, gross - waiting_bs)
        resolution_met = resolution_bs <= targets.resolution_s
    elif ticket.status in ACTIVE:
        net = business_seconds(ticket.opened_at, now, hours, tz) - waiting_bs
        if net > targets.resolution_s:
            resolution_met = False
    return TicketTimes(
        ticket.id, first_bs, resolution_bs, waiting_s, waiting_bs, first_met, resolution_met
    )


async def _events(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[TicketEvent]]:
    found: dict[int, list[TicketEvent]] = defaultdict(list)
    for chunk in range(0, len(ids), 500):
        rows = await session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id.in_(ids[chunk : chunk + 500]))
            .order_by(TicketEvent.at, TicketEvent.id)
        )
        for event in rows:
            found[event.ticket_id].append(event)
    return found


async def ticket_times(
    session: AsyncSession,
    since: datetime | None,
    until: datetime | None,
    targets: Targets,
    now: datetime,
) -> list[TicketTimes]:
    """The figures of every ticket opened in ``[since, until)``."""
    query = select(Ticket).order_by(Ticket.id)
    if since is not None:
        query = query.where(Ticket.opened_at >= since)
    if until is not None:
        query = query.where(Ticket.opened_at < until)
    tickets = list(await session.scalars(query))
    events = await _events(session, [t.id for t in tickets])
    return [times_of(t, events.get(t.id, []), targets, now) for t in tickets]


async def sla_summary(
    session: AsyncSession,
    since: datetime | None,
    until: datetime | None,
    targets: Targets,
    now: datetime,
) -> SlaSummary:
    """How many tickets opened in the period met each target, and business-hours times."""
    times = await ticket_times(session, since, until, targets, now)
    first = [t.first_response_met for t in times if t.first_response_met is not None]
    resolved = [t.resolution_met for t in times if t.resolution_met is not None]
    return SlaSummary(
        first_response_met=sum(first),
        first_response_decided=len(first),
        resolution_met=sum(resolved),
        resolution_decided=len(resolved),
        first_response_bs=spread(
            [t.first_response_bs for t in times if t.first_response_bs is not None]
        ),
        resolution_bs=spread([t.resolution_bs for t in times if t.resolution_bs is not None]),
        waiting_s=spread([t.waiting_s for t in times if t.resolution_bs is not None]),
    )


def remaining_of(
    ticket: Ticket, events: Sequence[TicketEvent], targets: Targets, now: datetime
) -> tuple[str, int, int] | None:
    """An active ticket's running target: (kind, target, business seconds left, negative
    once breached); None while its clock is stopped (waiting on the customer)."""
    hours, tz = targets.hours, targets.tz
    elapsed = business_seconds(ticket.opened_at, now, hours, tz)
    if ticket.first_response_at is None:
        return "first_response", targets.first_response_s, targets.first_response_s - elapsed
    if ticket.status != "open":
        return None
    waited = sum(business_seconds(a, b, hours, tz) for a, b in waiting_spans(events, now))
    return "resolution", targets.resolution_s, targets.resolution_s - (elapsed - waited)


async def active_events(
    session: AsyncSession, tickets: Sequence[Ticket]
) -> dict[int, list[TicketEvent]]:
    """The events of ``tickets``, by ticket id."""
    return await _events(session, [t.id for t in tickets])


async def near_breach(
    session: AsyncSession, targets: Targets, now: datetime, lead: float = 0.2
) -> list[tuple[Ticket, NearBreach]]:
    """Active, not yet warned tickets with less than ``lead`` of a target left.

    The lead is a fraction of the target, at most two hours. While a ticket waits on
    the customer its resolution clock is stopped, so it is not warned about then.
    """
    tickets = list(
        await session.scalars(
            select(Ticket)
            .where(Ticket.status.in_(ACTIVE), Ticket.sla_warned_at.is_(None))
            .order_by(Ticket.id)
        )
    )
    events = await _events(session, [t.id for t in tickets])
    found: list[tuple[Ticket, NearBreach]] = []
    for ticket in tickets:
        left = remaining_of(ticket, events.get(ticket.id, []), targets, now)
        if left is None:
            continue
        kind, target, remaining = left
        if remaining > min(target * lead, 7200):
            continue
        due = add_business_time(now, remaining, targets.hours, targets.tz) if remaining > 0 else now
        found.append((ticket, NearBreach(ticket.id, kind, remaining, due)))
    return found


__all__ = [
    "NearBreach",
    "SlaSummary",
    "Spread",
    "Targets",
    "TicketTimes",
    "active_events",
    "near_breach",
    "remaining_of",
    "sla_summary",
    "spread",
    "ticket_times",
    "times_of",
    "waiting_spans",
]
