"""Durations as INTERFACE.md writes them: ``90s``, ``15m``, ``24h``, ``7d``."""

from __future__ import annotations

import re
from datetime import timedelta

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
