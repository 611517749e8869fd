"""The dashboard's charts as inline SVG geometry (no script, no image file).

Each series becomes points in a ``WIDTH`` x ``HEIGHT`` box; a week without answers
breaks its line; tickets per week are pairs of bars. The template draws them; the
numbers are ``weekly_scores``' and ``ticket_weeks``'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.read.kpi_weeks import WeekScore
from storage.read.ticket_weeks import TicketWeek

WIDTH, HEIGHT, PAD = 600, 160, 24


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    week: str
    answers: int


@dataclass(frozen=True)
class Series:
    """One panel: its range, its lines (runs of weeks with answers) and its points."""

    low: float
    high: float
    lines: list[str]
    points: list[Point]
    zero_y: float | None  # where 0 is, when inside the range


def _y(value: float, low: float, high: float) -> float:
    inner = HEIGHT - 2 * PAD
    return round(PAD + inner * (high - value) / (high - low), 1)


def series(
    weeks: Sequence[WeekScore],
    values: Sequence[float | None],
    answers: Sequence[int],
    low: float,
    high: float,
) -> Series:
    step = (WIDTH - 2 * PAD) / max(1, len(weeks) - 1)
    points: list[Point] = []
    lines: list[str] = []
    run: list[str] = []
    for i, (week, value, n) in enumerate(zip(weeks, values, answers, strict=True)):
        if value is None:
            if run:
                lines.append(" ".join(run))
            run = []
            continue
        x = round(PAD + i * step, 1) if len(weeks) > 1 else WIDTH / 2
        point = Point(x, _y(value, low, high), value, week.week_start.isoformat(), n)
        points.append(point)
        run.append(f"{point.x},{point.y}")
    if run:
        lines.append(" ".join(run))
    zero = _y(0, low, high) if low < 0 < high else None
    return Series(low, high, lines, points, zero)


def weekly_charts(weeks: Sequence[WeekScore]) -> dict[str, Series]:
    """The NPS (-100 to 100) and CSAT (1 to 5) panels of ``weeks``."""
    return {
        "nps": series(weeks, [w.nps for w in weeks], [w.nps_responses for w in weeks], -100, 100),
        "csat": series(weeks, [w.csat for w in weeks], [w.csat_responses for w in weeks], 1, 5),
    }


@dataclass(frozen=True)
class WeekBars:
    """One week's two bars (opened, resolved): where they stand and their counts."""

    x: float
    width: float
    week: str
    opened: int
    opened_y: float
    resolved: int
    resolved_y: float
    base_y: float


def ticket_bars(weeks: Sequence[TicketWeek]) -> tuple[list[WeekBars], int]:
    """Side-by-side bars of tickets opened and resolved per week, and the scale's top."""
    top = max([1, *(w.opened for w in weeks)])
    slot = (WIDTH - 2 * PAD) / max(1, len(weeks))
    width = round(max(1.0, slot * 0.4), 1)
    base = HEIGHT - PAD
    bars = []
    for i, w in enumerate(weeks):
        x = round(PAD + i * slot + slot * 0.1, 1)
        bars.append(
            WeekBars(
                x,
                width,
                w.week_start.isoformat(),
                w.opened,
                _y(w.opened, 0, top),
                w.resolved,
                _y(w.resolved, 0, top),
                base,
            )  # fmt: skip
        )
    return bars, top


def share(value: float | None, top: float) -> float:
    """A bar's length in percent of the widest one (0 for none)."""
    if value is None or top <= 0:
        return 0.0
    return round(max(0.0, min(100.0, 100 * value / top)), 1)
