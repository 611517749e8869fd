"""The period of /kpi: ``7d``, ``30d``, ``90d`` (any ``Nd``) or ``YYYY-MM-DD..YYYY-MM-DD``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import ngettext, translate

DEFAULT = "30d"
_DAYS = re.compile(r"^(\d{1,4})d$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})$")


class BadPeriod(ValueError):
    """The text is not a period /kpi understands."""


@dataclass(frozen=True)
class Period:
    """``[since, until)`` in UTC, and the period of equal length just before it."""

    since: datetime
    until: datetime
    label: str
    # what the label is made of, to word it in the operator's language
    last_days: int | None = None
    first: date | None = None
    last: date | None = None

    @property
    def previous(self) -> Period:
        length = self.until - self.since
        return Period(self.since - length, self.since, f"previous {self.label}")

    @property
    def days(self) -> float:
        return (self.until - self.since) / timedelta(days=1)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_period(text: str, now: datetime, tz: ZoneInfo) -> Period:
    """The period named by ``text`` (empty: the last 30 days up to ``now``)."""
    text = (text or DEFAULT).strip().lower()
    if m := _DAYS.match(text):
        days = int(m[1])
        if not 1 <= days <= 3660:
            raise BadPeriod(text)
        return Period(now - timedelta(days=days), now, f"last {days} days", last_days=days)
    if m := _RANGE.match(text):
        try:
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError as exc:
            raise BadPeriod(text) from exc
        if last < first:
            raise BadPeriod(text)
        label = f"{first.isoformat()} to {last.isoformat()}"
        since, until = _midnight(first, tz), _midnight(last + timedelta(days=1), tz)
        return Period(since, until, label, first=first, last=last)
    raise BadPeriod(text)


def period_label(period: Period, lang: str) -> str:
    """The period's name in ``lang``: ``last 7 days``, ``2026-01-01 to 2026-01-31``."""
    if period.last_days is not None:
        return ngettext("last {n} day", "last {n} days", period.last_days, lang)
    if period.first is not None and period.last is not None:
        return translate(
            "{first} to {last}", lang, first=period.first.isoformat(), last=period.last.isoformat()
        )
    return period.label
