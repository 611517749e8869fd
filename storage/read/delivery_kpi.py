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
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, Order, SurveyResponse
from storage.read.figures import nps_score, ratio
from storage.read.local_dates import is_postgres, known_zone, punctuality

# How far past now an estimate may lie (the import allows a year): its year still has
# its own offsets spelled out on SQLite.
_YEARS_AHEAD = 2


async def _zones(session: AsyncSession) -> list[str]:
    """The customers' zone names, which SQLite's day arithmetic must spell out."""
    if is_postgres(session):
        return []
    query = select(Customer.timezone).where(Customer.timezone.is_not(None)).distinct()
    # A name this machine's zone database lacks is read as the default zone.
    return sorted(name for name in await session.scalars(query) if name and known_zone(name))


def _punctual(
    session: AsyncSession, zones: list[str], default_zone: str, now: datetime, joined: bool
) -> ColumnElement[Any]:
    """1 for an order delivered on time, 0 for one late, NULL without an estimate.

    ``joined``: the customers are joined (``_with_customers``). Otherwise (all time on
    SQLite) each zone's customers are found by ``IN (SELECT ...)``: a list SQLite builds
    once from the zone index, where a join reads a customer, at random, an order.
    """
    dialect = session.get_bind().dialect.name
    return _verdict(dialect, tuple(zones), default_zone, now.year + _YEARS_AHEAD, joined)


@lru_cache(maxsize=64)
def _verdict(
    dialect: str, zones: tuple[str, ...], default_zone: str, last_year: int, joined: bool
) -> ColumnElement[Any]:
    # Kept: on SQLite the expression has hundreds of terms, and building it anew (and
    # SQLAlchemy compiling it anew) would cost more than the query on a short period.

    def in_zone(name: str) -> ColumnElement[bool]:
        if joined:
            return Customer.timezone == name
        return Order.customer_id.in_(select(Customer.id).where(Customer.timezone == name))

    return punctuality(
        dialect == "postgresql",
        Order.delivered_at,
        Order.estimated_delivery_at,
        Customer.timezone,
        in_zone,
        default_zone,
        zones,
        last_year,
    )


def _delivered_in(since: datetime | None, until: datetime | None) -> ColumnElement[bool]:
    found: list[ColumnElement[bool]] = [Order.delivered_at.is_not(None)]
    if since is not None:
        found.append(Order.delivered_at >= since)
    if until is not None:
        found.append(Order.delivered_at < until)
    return and_(*found)


def _once(query: Any, session: AsyncSession) -> Any:
    """``query`` as a subquery whose rows are each worked out once.

    SQLite would otherwise copy the verdict's CASE (hundreds of terms) into every
    aggregate that reads it, or sort every row to group them; a LIMIT (of none) keeps
    the subquery whole, so its rows stream once into the aggregates.
    """
    if not is_postgres(session):
        query = query.limit(-1)
    return query.subquery()


def _with_customers(query: Any, joined: bool) -> Any:
    if joined:
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
    # All time on SQLite: every order is read, so zones by lists, answers in order.
    in_turn = since is None and until is None and not is_postgres(session)
    joined = is_postgres(session) or (bool(zones) and not in_turn)
    punctual = _punctual(session, zones, default_zone, now, joined)
    delivered_in = _delivered_in(since, until)
    verdicts = _with_customers(select(punctual.label("p")).select_from(Order), joined)
    verdicts = _once(verdicts.where(delivered_in), session)
    query = select(func.count(), func.count(verdicts.c.p), func.sum(verdicts.c.p))
    delivered, judged, on_time_ = (await session.execute(query)).one()
    delivered, on_time = int(delivered), int(on_time_ or 0)
    late = int(judged) - on_time
    answers = await _answers(session, punctual, delivered_in, in_turn, joined)
    return {
        "delivered": delivered,
        "on_time": on_time,
        "late": late,
        "on_time_pct": ratio(on_time, on_time + late, 100),
        "csat_on_time": answers.get((1, "csat")),
        "csat_late": answers.get((0, "csat")),
        "nps_on_time": answers.get((1, "nps")),
        "nps_late": answers.get((0, "nps")),
    }


_SUMS = ("csat_n", "csat_sum", "nps_n", "promoters", "detractors")
"""What is summed of the answers, per verdict: CSAT answers and their scores; NPS
answers, promoters (9-10) and detractors (0-6)."""


def _answer_parts(kind: Any, score: Any) -> list[ColumnElement[Any]]:
    """One answer's share of each of ``_SUMS``."""
    csat, nps = kind == "csat", kind == "nps"
    return [
        case((csat, 1), else_=0).label("csat_n"),
        case((csat, score), else_=0).label("csat_sum"),
        case((nps, 1), else_=0).label("nps_n"),
        case((and_(nps, score >= 9), 1), else_=0).label("promoters"),
        case((and_(nps, score <= 6), 1), else_=0).label("detractors"),
    ]


def _answer_rows(
    punctual: ColumnElement[Any], delivered_in: ColumnElement[bool], in_turn: bool, joined: bool
) -> Any:
    """Rows of a verdict and ``_SUMS``: one an answer, or (``in_turn``) one an order.

    ``in_turn`` (all time on SQLite): the answers are summed per order as they are read
    in order id order (``ix_survey_responses_order``, no sort), and each order is then
    found by its key and judged once; otherwise the orders delivered in the period are
    read first and their answers looked up.
    """
    r = SurveyResponse
    if in_turn:
        parts = _answer_parts(r.kind, r.score)
        summed = select(r.order_id, *(func.sum(part).label(part.name) for part in parts))
        per_order = summed.where(r.order_id.is_not(None)).group_by(r.order_id).subquery()
        found = select(punctual.label("p"), *(per_order.c[name] for name in _SUMS))
        found = found.select_from(per_order).join(Order, Order.id == per_order.c.order_id)
    else:
        found = select(punctual.label("p"), *_answer_parts(r.kind, r.score)).select_from(r)
        found = _with_customers(found.join(Order, Order.id == r.order_id), joined)
    return found.where(delivered_in, Order.estimated_delivery_at.is_not(None))


async def _answers(
    session: AsyncSession,
    punctual: ColumnElement[Any],
    delivered_in: ColumnElement[bool],
    in_turn: bool,
    joined: bool,
) -> dict[tuple[int, str], float | None]:
    """``{(1 on time / 0 late, kind): CSAT mean or NPS score}`` of the orders' answers."""
    rows = _once(_answer_rows(punctual, delivered_in, in_turn, joined), session)
    figures = [
        func.coalesce(func.sum(case((rows.c.p == verdict, rows.c[name]))), 0)
        for verdict in (1, 0)
        for name in _SUMS
    ]
    sums = [int(n) for n in (await session.execute(select(*figures))).one()]
    found: dict[tuple[int, str], float | None] = {}
    for verdict, (answered, total, n, promoters, detractors) in zip(
        (1, 0), (sums[:5], sums[5:]), strict=True
    ):
        found[(verdict, "csat")] = ratio(total, answered)
        found[(verdict, "nps")] = nps_score(promoters, detractors, n)
    return found
