"""A moment's day on a customer's calendar, computed in SQL on both backends.

PostgreSQL knows the IANA zones: the day is ``timezone(zone, moment)::date``. SQLite
knows none, so each zone's UTC offsets are spelled out in the statement: a CASE over
the customers' zones, each the offsets the zone had since 2000, newest first (recent
moments, the common case, stop at the first test). The day is then the whole number of
days since 1970 of the moment shifted by its offset. Both give the same days, so
figures built on them agree across backends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Date, case, cast, func, literal
from sqlalchemy.ext.asyncio import AsyncSession

FIRST_YEAR = 2000
"""No moment the import accepts is older (``storage.imports.rows.EARLIEST``)."""
_DAY = 86_400
_STEP = timedelta(days=1)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@lru_cache(maxsize=512)
def known_zone(name: str) -> bool:
    """Whether ``name`` is an IANA zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=512)
def offsets(zone: str, last_year: int) -> tuple[tuple[datetime, int], ...]:
    """``zone``'s UTC offsets in seconds from 2000 to the end of ``last_year``, as
    ``(from this UTC moment, offset)``, oldest first (the first from 2000-01-01).

    Found day by day, each change then pinned to the minute: no zone has changed its
    offset twice within a day since 2000, nor at a moment that is not a whole minute.
    """
    tz = ZoneInfo(zone)
    moment = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)

    def offset(at: datetime) -> int:
        shift = at.astimezone(tz).utcoffset()
        return 0 if shift is None else int(shift.total_seconds())

    found = [(moment, offset(moment))]
    while moment < end:
        following = moment + _STEP
        if offset(following) != found[-1][1]:
            found.append(_change(moment, following, found[-1][1], offset))
        moment = following
    return tuple(found)


def _change(
    low: datetime, high: datetime, old: int, offset: Callable[[datetime], int]
) -> tuple[datetime, int]:
    """The first whole minute in ``(low, high]`` with an offset other than ``old``."""
    minute = timedelta(minutes=1)
    while high - low > minute:
        middle = low + ((high - low) // minute // 2) * minute
        low, high = (middle, high) if offset(middle) == old else (low, middle)
    return high, offset(high)


def _offset_of(moment: Any, zone: str, last_year: int) -> ColumnElement[Any]:
    """The UTC offset (seconds) ``zone`` had at ``moment``: a CASE, newest first."""
    changes = offsets(zone, last_year)
    if len(changes) == 1:
        return literal(changes[0][1])
    newest_first = [(moment >= start, shift) for start, shift in reversed(changes[1:])]
    return case(*newest_first, else_=changes[0][1])


def _day(moment: Any, shift: ColumnElement[Any]) -> ColumnElement[Any]:
    # ``op("/")``: SQLite's integer division (SQLAlchemy's ``/`` would make it a float).
    return (func.unixepoch(moment) + shift).self_group().op("/")(_DAY)


ZoneTest = Callable[[str], ColumnElement[bool]]
"""Whether the row's customer is in the zone named (SQLite's spelled-out branches)."""


def punctuality(
    postgres: bool,
    delivered: Any,
    estimated: Any,
    zone: Any,
    in_zone: ZoneTest,
    default_zone: str,
    zones: Sequence[str],
    last_year: int,
) -> ColumnElement[Any]:
    """1 when ``delivered`` falls on or before ``estimated``'s day in the customer's zone
    (else ``default_zone``), 0 when after, NULL without an estimate (all columns).

    PostgreSQL (``postgres``) reads the customer's ``zone`` column; SQLite tries
    ``in_zone`` for each of ``zones`` (every zone a customer has), then falls back on
    ``default_zone``.
    """
    if postgres:
        named = func.coalesce(zone, default_zone)
        days = [cast(func.timezone(named, moment), Date) for moment in (delivered, estimated)]
        return case((estimated.is_(None), None), (days[0] <= days[1], 1), else_=0)

    def within(name: str) -> ColumnElement[Any]:
        first = _day(delivered, _offset_of(delivered, name, last_year))
        second = _day(estimated, _offset_of(estimated, name, last_year))
        return case((first <= second, 1), else_=0)

    branches: list[tuple[ColumnElement[bool], Any]] = [(estimated.is_(None), None)]
    branches += [(in_zone(name), within(name)) for name in zones]
    return case(*branches, else_=within(default_zone))
