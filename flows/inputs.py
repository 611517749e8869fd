"""Reading what the customer sent and what the stored data holds, defensively."""

from __future__ import annotations

from collections.abc import Mapping

from flows.state import JSONValue


def parse_score(text: str, low: int, high: int) -> int | None:
    """A typed score such as ``" 7 "``; None for anything else or out of range."""
    text = text.strip()
    if not text or len(text) > 3 or not text.isdecimal():
        return None
    score = int(text)
    return score if low <= score <= high else None


def as_int(text: str) -> int | None:
    """An integer id from callback data (digits only, no sign); None otherwise."""
    if not text.isdecimal() or len(text) > 18:
        return None
    return int(text)


def get_int(data: Mapping[str, JSONValue], key: str) -> int | None:
    """An integer held in a flow's stored data (booleans are not integers)."""
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def get_str(data: Mapping[str, JSONValue], key: str) -> str | None:
    """A string held in a flow's stored data."""
    value = data.get(key)
    return value if isinstance(value, str) else None
