"""The KPI engine: read-side SQL for every figure of ``postsale kpi --json`` and ``/kpi``.

The period is ``[since, until)``: since inclusive, until exclusive. ``since=None``
means from the beginning, ``until=None`` means up to ``now`` when ``since`` is given,
and both None mean all time (the JSON period is then ``{"since": null, "until": null}``).
A period holds the survey answers given, follow-ups sent, tickets opened and orders
purchased within it.

Definitions (DESIGN.md):

- NPS = % promoters (9-10) - % detractors (0-6) over the period's NPS answers.
- CSAT = mean score (1-5) and % satisfied (4-5) over the period's CSAT answers.
- Response rate = follow-ups answered / follow-ups sent, of those sent in the period.
- Tickets opened in the period: how many, how many are open now (open or waiting on
  the customer), resolved (resolved or closed) and were ever reopened; first response
  (opened -> first operator reply) and resolution (opened -> resolved) in seconds:
  mean, median and p90 (see ``storage.read.percentiles``); ``waiting_s.mean`` (an addition)
  is the time resolved tickets spent waiting on the customer, included in resolution;
  ``satisfaction`` is the mean of the customers' 1-5 ratings of those tickets (after
  resolution) and how many were rated.
- Customers: ``with_orders`` bought in the period; repeat purchase = those with 2+
  orders / those with 1+; churn = customers who bought in the previous period of equal
  length but not in this one / customers who bought in the previous period (null for an
  unbounded period); LTV = revenue in the period / customers with orders (cents); CAC =
  spend of the months overlapping the period / customers whose first-ever order is in
  the period (null when no spend is known for those months). Months are ``YYYY-MM`` in
  the time zone of ``since`` (or ``until``). Amounts are summed as stored: one currency
  is assumed.
- Delivery (``storage.read.delivery_kpi``): of the orders delivered in the period, how
  many on time and late (by the customer's local dates), and the NPS and CSAT of the
  answers about each.
- Themes (``storage.read.theme_kpi``): the share of each theme among the detractors',
  passives', promoters' and CSAT 1-2 answers, and its change in percentage points.

Counts are whole numbers; a figure that needs data there is none of is null, never 0.
Scores, percentages and seconds are rounded half-up to one decimal, cents to a whole
cent, from exact sums and counts, so SQLite and PostgreSQL give the same answers.
Anonymised customers' answers and orders count like any others.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, aliased

from storage.models import FollowUp, MarketingSpend, Order, OutboxMessage, Ticket
from storage.read.delivery_kpi import delivery_kpis
from storage.read.figures import cents, nps_score, ratio
from storage.read.kpi_weeks import WeekScore, survey_counts, weekly_scores
from storage.read.percentiles import median_and_p90
from storage.read.theme_kpi import theme_kpis

__all__ = ["DEFAULT_ZONE", "WeekScore", "compute_kpis", "nps_score", "ratio", "weekly_scores"]

DEFAULT_ZONE = "America/Sao_Paulo"
"""``DEFAULT_TIMEZONE``'s default, for callers without settings."""


def _within(
    column: QueryableAttribute[Any], since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if since is not None:
        found.append(column >= since)
    if until is not None:
        found.append(column < until)
    return found


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def _surveys(session: AsyncSession, since: datetime | None, until: datetime | None) -> Any:
    counts = await survey_counts(session, since, until)
    nps, csat = counts.get("nps"), counts.get("csat")
    n, promoters, detractors = (nps.responses, nps.promoters, nps.detractors) if nps else (0, 0, 0)
    c, satisfied, total = (csat.responses, csat.satisfied, csat.total) if csat else (0, 0, 0)
    return {
        "nps": {
            "score": nps_score(promoters, detractors, n),
            "promoters": promoters,
            "passives": n - promoters - detractors,
            "detractors": detractors,
            "responses": n,
        },
        "csat": {
            "mean": ratio(total, c),
            "satisfied_pct": ratio(satisfied, c, 100),
            "responses": c,
        },
    }


async def _followups(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    # Sent means the invitation left: not while it is queued or retried, nor when it
    # failed. An answered one evidently reached the customer; one without an outbox
    # row (from before, or whose rows were erased) counts as sent.
    unsent = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.followup_id == FollowUp.id,
            OutboxMessage.purpose == "invitation",
            OutboxMessage.status.in_(("queued", "failed")),
        )
        .exists()
    )
    query = select(func.count(), func.count(FollowUp.answered_at)).where(
        FollowUp.sent_at.is_not(None),
        or_(FollowUp.answered_at.is_not(None), ~unsent),
        *_within(FollowUp.sent_at, since, until),
    )
    sent, answered = (await session.execute(query)).one()
    return {"sent": sent, "answered": answered, "response_rate_pct": ratio(answered, sent, 100)}


async def _tickets(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    where = _within(Ticket.opened_at, since, until)
    times = (Ticket.first_response_s, Ticket.resolution_s)
    query = select(
        func.count(),
        _count_if(Ticket.status.in_(("open", "waiting_customer"))),
        _count_if(Ticket.resolved_at.is_not(None)),
        _count_if(Ticket.reopened_count > 0),
        func.sum(case((Ticket.resolution_s.is_not(None), Ticket.waiting_s))),
        func.count(Ticket.rating),
        func.sum(Ticket.rating),
        *(aggregate(column) for column in times for aggregate in (func.count, func.sum)),
    ).where(*where)
    row = (await session.execute(query)).one()
    opened, active, resolved, reopened, waiting, rated, rating_sum, *sums = row
    counts = [int(sums[0]), int(sums[2])]
    totals = [_whole(sums[1]), _whole(sums[3])]
    cuts = await median_and_p90(session, times, where, counts)
    figures: dict[str, Any] = {
        "opened": opened,
        "open": int(active),
        "resolved": int(resolved),
        "reopened": int(reopened),
    }
    for name, n, total, (median, p90) in zip(
        ("first_response_s", "resolution_s"), counts, totals, cuts, strict=True
    ):
        figures[name] = {
            "mean": ratio(total, n),
            "median": ratio(_tenths(median), 10),
            "p90": ratio(_tenths(p90), 10),
        }
    # Averaged over the tickets with a resolution time, of which it is a part.
    figures["waiting_s"] = {"mean": ratio(_whole(waiting), counts[1])}
    # The customer's 1-5 rating after resolution, of the tickets rated so far.
    figures["satisfaction"] = {"mean": ratio(_whole(rating_sum), int(rated)), "responses": rated}
    return figures


def _whole(value: Any) -> int | None:
    return None if value is None else int(value)


def _tenths(value: float | None) -> int | None:
    """A percentile (a whole number of tenths, give or take float noise) in tenths."""
    return None if value is None else round(value * 10)


async def _customers(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    previous = None if since is None or until is None else since - (until - since)
    in_period = and_(true(), *_within(Order.purchased_at, since, until))
    before = Order.purchased_at < since if previous is not None else false()
    per_customer = (
        select(
            Order.customer_id,
            _count_if(in_period).label("orders"),
            func.sum(case((in_period, Order.total_cents))).label("revenue"),
            _count_if(before).label("before"),
        )
        .where(*_within(Order.purchased_at, previous or since, until))
        .group_by(Order.customer_id)
        .subquery()
    )
    c = per_customer.c
    query = select(
        _count_if(c.orders >= 1),
        _count_if(c.orders >= 2),
        func.sum(c.revenue),
        _count_if(c.before >= 1),
        _count_if(and_(c.before >= 1, c.orders == 0)),
    )
    buyers, repeat, revenue, active_before, churned = (await session.execute(query)).one()
    buyers = int(buyers)
    revenue = None if revenue is None else int(revenue)
    return {
        "with_orders": buyers,
        "repeat_purchase_pct": ratio(int(repeat), buyers, 100),
        "churn_pct": ratio(int(churned), int(active_before), 100) if previous else None,
        "ltv_cents": cents(revenue, buyers),
        "cac_cents": await _cac(session, since, until, buyers),
    }


def _month(moment: datetime, reference: datetime) -> str:
    return moment.astimezone(reference.tzinfo or UTC).strftime("%Y-%m")


async def _cac(
    session: AsyncSession, since: datetime | None, until: datetime | None, buyers: int
) -> int | None:
    months = []
    if since is not None:
        months.append(MarketingSpend.month >= _month(since, since))
    if until is not None:
        last = until - timedelta(microseconds=1)
        months.append(MarketingSpend.month <= _month(last, since or until))
    spend = await session.scalar(select(func.sum(MarketingSpend.amount_cents)).where(*months))
    if spend is None:
        return None
    if since is None:
        new_customers = buyers  # everyone's first order is before ``until``
    else:
        earlier = aliased(Order)
        query = select(func.count(func.distinct(Order.customer_id))).where(
            *_within(Order.purchased_at, since, until),
            ~exists().where(earlier.customer_id == Order.customer_id, earlier.purchased_at < since),
        )
        new_customers = int(await session.scalar(query) or 0)
    return cents(int(spend), new_customers)


async def compute_kpis(
    session: AsyncSession,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    *,
    default_zone: str = DEFAULT_ZONE,
) -> dict[str, Any]:
    """Every figure of ``postsale kpi --json`` (INTERFACE.md) for ``[since, until)``.

    ``until=None`` with a ``since`` means up to ``now``; both None mean all time.
    ``default_zone`` (``DEFAULT_TIMEZONE``) dates the deliveries of customers without a
    zone of their own.
    """
    for moment in (since, until, now):
        if moment is not None and moment.tzinfo is None:
            raise ValueError("compute_kpis needs timezone-aware datetimes")
    if since is not None and until is None:
        until = now
    result: dict[str, Any] = {
        "period": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }
    }
    result.update(await _surveys(session, since, until))
    result["followups"] = await _followups(session, since, until)
    result["tickets"] = await _tickets(session, since, until)
    result["customers"] = await _customers(session, since, until)
    result["delivery"] = await delivery_kpis(session, since, until, now, default_zone)
    result["themes"] = await theme_kpis(session, since, until)
    return result
