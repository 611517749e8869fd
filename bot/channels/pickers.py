"""Two-tap pickers: more choices than a channel's message can carry, in two steps.

WhatsApp shows at most 3 reply buttons or a list of 10 rows; NPS has 11 scores. A
message with more buttons than the channel carries keeps its rows: each row
becomes one first-level choice (a row of one button stays that button, a row of several
becomes "first – last"), and pressing a group sends that row's buttons as a message of
their own. NPS (rows 0-5 and 6-10) thus arrives as two buttons, and every score is two
taps away. The group's data names the outbox row and the row's index
(``pick:<row>:<index>``): the second step is rebuilt from the stored message, so it
survives a restart and needs nothing kept in memory.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.outbox_body import BodyButton

PREFIX = "pick:"
DASH = " – "

Rows = tuple[tuple[BodyButton, ...], ...]


def needs_picker(rows: Rows, most: int) -> bool:
    """Whether ``rows`` carry more buttons than a message may (``most``)."""
    return sum(len(row) for row in rows) > most


def first_level(rows: Rows, row_id: int) -> Rows:
    """The choices of the first tap: one per row of ``rows`` (as one row each)."""
    return tuple((_group(row, row_id, index),) for index, row in enumerate(rows) if row)


def _group(row: Sequence[BodyButton], row_id: int, index: int) -> BodyButton:
    if len(row) == 1:
        return row[0]
    return BodyButton(f"{row[0].text}{DASH}{row[-1].text}", f"{PREFIX}{row_id}:{index}")


def parse(data: str) -> tuple[int, int] | None:
    """``(row id, row index)`` of a group's data, or None for any other button."""
    if not data.startswith(PREFIX):
        return None
    row, sep, index = data[len(PREFIX) :].partition(":")
    if not sep or not row.isdigit() or not index.isdigit():
        return None
    return int(row), int(index)


def second_level(rows: Rows, index: int) -> Rows | None:
    """The buttons of group ``index`` (one a row), or None when the message has no such row."""
    if not 0 <= index < len(rows) or len(rows[index]) < 2:
        return None
    return tuple((button,) for button in rows[index])


__all__ = ["PREFIX", "first_level", "needs_picker", "parse", "second_level"]
