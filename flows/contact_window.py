"""The contact window: the local hours in which a customer may be written to."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Protocol


class Window(Protocol):
    """Local start and end of the hours of contact (``bot.settings.ContactWindow`` fits)."""

    @property
    def start(self) -> time: ...

    @property
    def end(self) -> time: ...


def in_window(local: time, window: Window) -> bool:
    """Whether a local wall-clock time lies in the window (end excluded)."""
    start, end = window.start, window.end
    if start == end:
        return True  # an empty-width window means "any time"
    if start < end:
        return start <= local < end
    # Across midnight, e.g. 20:00-08:00.
    return local >= start or local < end


def next_contact_time(t: datetime, window: Window, tz: tzinfo) -> datetime:
    """The earliest instant at or after ``t`` that falls in the window in ``tz`` (UTC out)."""
    if t.tzinfo is None:
        raise ValueError("naive datetime given where UTC is required")
    local = t.astimezone(tz)
    wall = local.time().replace(tzinfo=None)
    if in_window(wall, window):
        return t.astimezone(UTC)
    # Outside the window the next opening is the window's start, today or tomorrow.
    day = local.date() if wall < window.start else local.date() + timedelta(days=1)
    # A start inside a DST gap (e.g. 00:00 on a spring-forward night in Sao Paulo) does
    # not exist; fold=0 maps it onto the instant the clocks jump, the first valid moment.
    opening = datetime.combine(day, window.start, tzinfo=tz)
    return opening.astimezone(UTC)
