"""Median and 90th percentile of integer columns, computed in the database.

One definition on both backends: the continuous percentile with linear interpolation
between the two nearest ranks (PostgreSQL's ``percentile_cont``, "R-7", Excel's
``PERCENTILE.INC``): for n sorted values v[0..n-1], p is read at position
r = p * (n - 1) as v[floor r] + (r - floor r) * (v[ceil r] - v[floor r]).
PostgreSQL runs ``percentile_cont`` itself. SQLite numbers the sorted values with a
window function and picks the neighbours of r, which the caller's count fixes in
advance; p being a whole number of tenths, the positions and weights are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

Column = QueryableAttribute[int | None]
Cut = tuple[float | None, float | None]
"""(median, p90); None when there are no values."""


async def median_and_p90(
    session: AsyncSession,
    columns: Sequence[Column],
    where: Sequence[ColumnElement[bool]],
    counts: Sequence[int],
) -> list[Cut]:
    """Median and p90 of each column's non-null values in the rows ``where``.

    ``counts`` are the number of non-null values of each column there (the caller
    has them from its own aggregate; SQLite needs them to know where to look).
    """
    if session.get_bind().dialect.name == "postgresql":
        return await _postgresql(session, columns, where)
    return [await _sqlite(session, c, where, n) for c, n in zip(columns, counts, strict=True)]


async def _postgresql(
    session: AsyncSession, columns: Sequence[Column], where: Sequence[ColumnElement[bool]]
) -> list[Cut]:
    picks: list[Any] = []
    for column in columns:
        picks.append(func.percentile_cont(0.5).within_group(column))
        picks.append(func.percentile_cont(0.9).within_group(column))
    row = (await session.execute(select(*picks).where(*where))).one()
    values = [None if v is None else float(v) for v in row]
    return [(values[i], values[i + 1]) for i in range(0, len(values), 2)]


async def _sqlite(
    session: AsyncSession, column: Column, where: Sequence[ColumnElement[bool]], n: int
) -> Cut:
    if n == 0:
        return None, None
    ranked = (
        select(column.label("v"), (func.row_number().over(order_by=column) - 1).label("i"))
        .where(*where, column.is_not(None))
        .subquery()
    )
    v, i = ranked.c.v, ranked.c.i
    tenths = 9 * (n - 1)  # r = 0.9 (n - 1) = tenths / 10
    lo50, hi50, lo90, hi90 = (n - 1) // 2, n // 2, tenths // 10, (tenths + 9) // 10

    def at(position: int) -> ColumnElement[Any]:
        return func.max(case((i == position, v)))

    weight = literal(tenths % 10 / 10, Float)
    query = select(
        (at(lo50) + at(hi50)) / 2.0,
        at(lo90) + weight * (at(hi90) - at(lo90)),
    ).where(i.in_({lo50, hi50, lo90, hi90}))
    median, p90 = (await session.execute(query)).one()
    return (None if median is None else float(median)), (None if p90 is None else float(p90))
