"""Survey answers counted per kind, for a period and per ISO week (the ``/kpi`` chart).

Both read the same sums, so a week's NPS and CSAT here are exactly what
``compute_kpis`` gives for that week. Weeks run Monday 00:00 to Monday 00:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, case, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SurveyResponse
from storage.read.figures import nps_score, ratio

KINDS = ("nps", "csat")


@dataclass(frozen=True)
class SurveyCounts:
    """One kind's answers: how many, promoters (9-10), detractors (0-6), satisfied (4-5), sum."""

    responses: int
    promoters: int
    detractors: int
    satisfied: int
    total: int


@dataclass(frozen=True)
class WeekScore:
    """NPS and CSAT of the answers given in the ISO week starting ``week_start`` (a Monday)."""

    week_start: date
    nps: float | None
    nps_responses: int
    csat: float | None
    csat_responses: int


def _sums() -> list[ColumnElement[Any]]:
    score = SurveyResponse.score

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    return [
        func.count(),
        count_if(score >= 9),
        count_if(score <= 6),
        count_if(score >= 4),
        func.sum(score),
    ]


def _where(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    # ``kind IN (...)`` first: the (kind, answered_at) index serves the range.
    where: list[ColumnElement[bool]] = [SurveyResponse.kind.in_(KINDS)]
    if since is not None:
        where.append(SurveyResponse.answered_at >= since)
    if until is not None:
        where.append(SurveyResponse.answered_at < until)
    return where


def _counts(row: Any) -> SurveyCounts:
    return SurveyCounts(*(int(value or 0) for value in row))


async def survey_counts(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> dict[str, SurveyCounts]:
    """Counts per kind (``nps``, ``csat``) of the answers given in ``[since, until)``."""
    query = (
        select(SurveyResponse.kind, *_sums())
        .where(*_where(since, until))
        .group_by(SurveyResponse.kind)
    )
    return {kind: _counts(rest) for kind, *rest in (await session.execute(query)).all()}


def week_of(session: AsyncSession, at: Any = SurveyResponse.answered_at) -> ColumnElement[Any]:
    """The Monday (UTC) of the week of the timestamp column ``at``, as a date."""
    if session.get_bind().dialect.name == "postgresql":
        utc = func.timezone(literal_column("'UTC'"), at)
        return cast(func.date_trunc(literal_column("'week'"), utc), Date)
    # SQLite keeps UTC as text: move to the week's Sunday, then back to its Monday.
    return func.date(at, literal_column("'weekday 0'"), literal_column("'-6 days'"))


async def weekly_scores(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> list[WeekScore]:
    """NPS and CSAT per ISO week of the answers in ``[since, until)``, oldest first.

    Every week from the first to the last with an answer is listed (a week without
    answers has None scores); none at all gives ``[]``. The first and last weeks hold
    only the answers within the period.
    """
    week = week_of(session).label("week")
    query = (
        select(week, SurveyResponse.kind, *_sums())
        .where(*_where(since, until))
        .group_by(week, SurveyResponse.kind)
    )
    found: dict[date, dict[str, SurveyCounts]] = {}
    for start, kind, *rest in (await session.execute(query)).all():
        day = start if isinstance(start, date) else date.fromisoformat(str(start))
        found.setdefault(day, {})[kind] = _counts(rest)
    if not found:
        return []
    weeks = []
    day, last = min(found), max(found)
    empty = SurveyCounts(0, 0, 0, 0, 0)
    while day <= last:
        nps = found.get(day, {}).get("nps", empty)
        csat = found.get(day, {}).get("csat", empty)
        weeks.append(
            WeekScore(
                week_start=day,
                nps=nps_score(nps.promoters, nps.detractors, nps.responses),
                nps_responses=nps.responses,
                csat=ratio(csat.total, csat.responses),
                csat_responses=csat.responses,
            )
        )
        day += timedelta(days=7)
    return weeks
