"""Business hours: how much of a span of time fell inside opening hours (pure, no clock).

``BusinessHours.parse("mon-fri 09:00-18:00; sat 09:00-13:00")`` reads the
``BUSINESS_HOURS`` setting; times are local to the zone given with each call, so
days, nights, weekends and daylight-saving changes are counted as the operators'
wall clock has them. ``always`` means every hour of every day.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLAUSE = re.compile(
    r"^\s*(?P<days>[a-z,\- ]+?)\s+"
    r"(?P<a>\d{1,2}):(?P<am>\d{2})\s*-\s*(?P<b>\d{1,2}):(?P<bm>\d{2})\s*$"
)
MINUTES_A_DAY = 24 * 60


def _day(name: str, text: str) -> int:
    try:
        return DAYS.index(name.strip()[:3])
    except ValueError:
        raise ValueError(f"unknown day {name.strip()!r} in business hours {text!r}") from None


def _days(spec: str, text: str) -> set[int]:
    found: set[int] = set()
    for part in spec.split(","):
        first, dash, last = part.partition("-")
        start = _day(first, text)
        end = _day(last, text) if dash else start
        day = start
        while True:  # a range may wrap over the week's end, e.g. sat-mon
            found.add(day)
            if day == end:
                break
            day = (day + 1) % 7
    return found


def _clause(clause: str, text: str) -> tuple[set[int], tuple[int, int]]:
    """One ``mon-fri 09:00-18:00`` clause: its weekdays and its window in minutes."""
    m = _CLAUSE.match(clause)
    if m is None:
        raise ValueError(f"not business hours: {clause.strip()!r} (use mon-fri 09:00-18:00)")
    a = int(m["a"]) * 60 + int(m["am"])
    b = int(m["b"]) * 60 + int(m["bm"])
    if int(m["am"]) > 59 or int(m["bm"]) > 59 or not 0 <= a < b <= MINUTES_A_DAY:
        raise ValueError(f"not a time window: {clause.strip()!r}")
    return _days(m["days"], text), (a, b)


@dataclass(frozen=True)
class BusinessHours:
    """Opening windows per weekday (0 = Monday), in minutes after local midnight."""

    windows: tuple[tuple[tuple[int, int], ...], ...]

    @classmethod
    def parse(cls, text: str) -> BusinessHours:
        """``mon-fri 09:00-18:00``; clauses joined by ``;``; ``always`` for 24/7."""
        per_day: list[list[tuple[int, int]]] = [[] for _ in DAYS]
        if text.strip().lower() in ("always", "24/7"):
            return cls(tuple(((0, MINUTES_A_DAY),) for _ in DAYS))
        for clause in text.lower().split(";"):
            if clause.strip():
                days, window = _clause(clause, text)
                for day in days:
                    per_day[day].append(window)
        for day, windows in enumerate(per_day):
            windows.sort()
            for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
                if start < end:
                    raise ValueError(f"overlapping windows on {DAYS[day]} in {text!r}")
        if not any(per_day):
            raise ValueError(f"business hours {text!r} have no open time")
        return cls(tuple(tuple(w) for w in per_day))

    def __str__(self) -> str:
        """The setting's form, runs of days with the same hours joined: ``mon-fri 09:00-18:00``."""
        parts: list[str] = []
        day = 0
        while day < 7:
            last = day
            while last + 1 < 7 and self.windows[last + 1] == self.windows[day]:
                last += 1
            days = DAYS[day] if last == day else f"{DAYS[day]}-{DAYS[last]}"
            for a, b in self.windows[day]:
                parts.append(f"{days} {a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}")
            day = last + 1
        return "; ".join(parts)


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of local ``minute`` on ``day`` (a time skipped by DST lands after it)."""
    if minute >= MINUTES_A_DAY:
        day, minute = day + timedelta(days=1), minute - MINUTES_A_DAY
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return local.astimezone(UTC)


def _windows(
    hours: BusinessHours, tz: ZoneInfo, first: date, last: date
) -> Iterator[tuple[datetime, datetime]]:
    day = first
    while day <= last:
        for a, b in hours.windows[day.weekday()]:
            yield _at(day, a, tz), _at(day, b, tz)
        day += timedelta(days=1)


def business_seconds(start: datetime, end: datetime, hours: BusinessHours, tz: ZoneInfo) -> int:
    """Whole seconds of ``[start, end)`` inside business hours (0 when end <= start)."""
    if end <= start:
        return 0
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    total = timedelta()
    for ws, we in _windows(hours, tz, first, last):
        lo, hi = max(ws, start), min(we, end)
        if hi > lo:
            total += hi - lo
    return int(total.total_seconds())


def add_business_time(
    start: datetime, seconds: float, hours: BusinessHours, tz: ZoneInfo
) -> datetime:
    """The instant when ``seconds`` of business time have passed since ``start``."""
    left = timedelta(seconds=seconds)
    if left <= timedelta():
        return start
    first = start.astimezone(tz).date() - timedelta(days=1)
    while True:
        last = first + timedelta(days=27)
        for ws, we in _windows(hours, tz, first, last):
            lo = max(ws, start)
            if we <= lo:
                continue
            if we - lo >= left:
                return lo + left
            left -= we - lo
        first = last + timedelta(days=1)


__all__ = ["BusinessHours", "add_business_time", "business_seconds"]
