"""Durations: read as INTERFACE.md writes them (``90s``, ``15m``, ``24h``, ``7d``), and
written for people (``45s``, ``12m``, ``3h 05m``, ``2d 4h``) by the one formatter that
``postsale kpi``, ``/kpi``, the tickets and the SLA warnings all use."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(text: str) -> timedelta:
    """Parse ``90s``, ``15m``, ``24h``, ``7d``, ``2w`` or a sum such as ``1h30m``."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise ValueError("empty duration")
    pos, total = 0, timedelta()
    for m in _PART.finditer(cleaned):
        if m.start() != pos:
            break
        total += timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})
        pos = m.end()
    if pos != len(cleaned):
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 24h, 7d)")
    return total


NO_VALUE = "—"
"""What a figure without data shows, everywhere a KPI is shown."""


def duration(seconds: float | None) -> str:
    """``45s``, ``12m``, ``3h 05m``, ``2d 4h``; a dash for no value, a sign when negative."""
    if seconds is None:
        return NO_VALUE
    s = int(round(abs(seconds)))
    sign = "-" if seconds < 0 else ""
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        return f"{sign}{s // 60}m"
    if s < 86400:
        hours, minutes = s // 3600, s % 3600 // 60
        return f"{sign}{hours}h {minutes:02d}m" if minutes else f"{sign}{hours}h"
    days, hours = s // 86400, s % 86400 // 3600
    return f"{sign}{days}d {hours}h" if hours else f"{sign}{days}d"


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
"""A setting's type for a duration written as INTERFACE.md writes them."""
