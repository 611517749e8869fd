"""The delivery KPIs: of the orders delivered in the period, how many came on time, how
many late, and what the customers of each said in their survey answers.

On time = delivered on or before the estimated delivery date, both read as dates of
the customer's calendar (the customer's zone, else ``DEFAULT_TIMEZONE``): an order due
on the 10th and delivered at 01:00 UTC on the 11th in Sao Paulo (22:00 on the 10th
there) is on time. Orders without an estimate count as delivered, in neither on time
nor late. The answers are those linked to the orders (``survey_responses.order_id``),
whenever given: NPS = % promoters - % detractors, CSAT = mean score; null without any.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, Order, SurveyResponse
from storage.read.figures import nps_score, ratio
from storage.read.local_dates import is_postgres, local_day

# How far past now an estimate may lie (the import allows a year): its year still has
# its own offsets spelled out on SQLite.
_YEARS_AHEAD = 2


async def _zones(session: AsyncSession) -> list[str]:
    """The customers' zone names, which SQLite's day arithmetic must spell out."""
    if is_postgres(session):
        return []
    query = select(Customer.timezone).where(Customer.timezone.is_not(None)).distinct()
    return sorted(str(name) for name in await session.scalars(query))


def _punctual(
    session: AsyncSession, zones: list[str], default_zone: str, now: datetime
) -> ColumnElement[Any]:
    """1 for an order delivered on time, 0 for one late, NULL without an estimate."""
    last_year = now.year + _YEARS_AHEAD

    def day(moment: Any) -> ColumnElement[Any]:
        return local_day(session, moment, Customer.timezone, default_zone, zones, last_year)

    on_time = day(Order.delivered_at) <= day(Order.estimated_delivery_at)
    return case((Order.estimated_delivery_at.is_(None), None), (on_time, 1), else_=0)


def _delivered_in(since: datetime | None, until: datetime | None) -> ColumnElement[bool]:
    found: list[ColumnElement[bool]] = [Order.delivered_at.is_not(None)]
    if since is not None:
        found.append(Order.delivered_at >= since)
    if until is not None:
        found.append(Order.delivered_at < until)
    return and_(*found)


def _with_customers(query: Any, zones: list[str], session: AsyncSession) -> Any:
    # Only a customer's own zone needs the customer; on SQLite with none known, skip it.
    if zones or is_postgres(session):
        return query.outerjoin(Customer, Customer.id == Order.customer_id)
    return query


async def delivery_kpis(
    session: AsyncSession,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    default_zone: str,
) -> dict[str, Any]:
    """The ``delivery`` object of ``compute_kpis`` for orders delivered in ``[since, until)``."""
    zones = await _zones(session)
    punctual = _punctual(session, zones, default_zone, now)
    delivered_in = _delivered_in(since, until)
    counts = select(func.count(), func.count(punctual), func.sum(punctual)).select_from(Order)
    counts = _with_customers(counts, zones, session).where(delivered_in)
    delivered, judged, on_time = (await session.execute(counts)).one()
    on_time = int(on_time or 0)
    answers = await _answers(session, zones, punctual, delivered_in)
    return {
        "delivered": int(delivered),
        "on_time": on_time,
        "late": int(judged) - on_time,
        "on_time_pct": ratio(on_time, int(judged), 100),
        "csat_on_time": answers.get((1, "csat")),
        "csat_late": answers.get((0, "csat")),
        "nps_on_time": answers.get((1, "nps")),
        "nps_late": answers.get((0, "nps")),
    }


async def _answers(
    session: AsyncSession,
    zones: list[str],
    punctual: ColumnElement[Any],
    delivered_in: ColumnElement[bool],
) -> dict[tuple[int, str], float | None]:
    """``{(1 on time / 0 late, kind): CSAT mean or NPS score}`` of the orders' answers."""
    each = select(
        punctual.label("punctual"), SurveyResponse.kind.label("kind"), SurveyResponse.score
    ).select_from(SurveyResponse)
    each = each.join(Order, Order.id == SurveyResponse.order_id)
    each = _with_customers(each, zones, session)
    rows = each.where(
        delivered_in,
        Order.estimated_delivery_at.is_not(None),
        SurveyResponse.kind.in_(("nps", "csat")),
    ).subquery()
    score = rows.c.score
    query = select(
        rows.c.punctual,
        rows.c.kind,
        func.count(),
        func.sum(case((score >= 9, 1), else_=0)),
        func.sum(case((score <= 6, 1), else_=0)),
        func.sum(score),
    ).group_by(rows.c.punctual, rows.c.kind)
    found: dict[tuple[int, str], float | None] = {}
    for punctual_, kind, n, promoters, detractors, total in await session.execute(query):
        if kind == "nps":
            found[(int(punctual_), kind)] = nps_score(int(promoters), int(detractors), int(n))
        else:
            found[(int(punctual_), kind)] = ratio(int(total), int(n))
    return found
