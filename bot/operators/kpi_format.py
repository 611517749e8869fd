"""How a KPI is written: one notation per unit, shared by ``postsale kpi`` and ``/kpi``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.durations import NO_VALUE, duration
from storage.read.kpi_defs import KpiDef

DASH = NO_VALUE


def number(figure: float | None, digits: int = 1, suffix: str = "") -> str:
    return DASH if figure is None else f"{figure:.{digits}f}{suffix}"


def money(cents: float | None, currency: str) -> str:
    return DASH if cents is None else f"{cents / 100:,.2f} {currency}".strip()


def show(kpi: KpiDef, figure: Any, currency: str = "") -> str:
    """A figure in its unit's notation."""
    if kpi.unit == "seconds":
        return duration(figure)
    if kpi.unit == "cents":
        return money(figure, currency)
    if kpi.unit == "count":
        return DASH if figure is None else str(figure)
    if kpi.unit == "mean":
        return number(figure, 2)
    return number(figure, 1, "%" if kpi.unit == "pct" else "")


def change(
    now: float | None,
    before: float | None,
    show: Callable[[float], str] = lambda d: f"{d:+.1f}",
) -> str:
    """``▲ +5.0``, ``▼ -2.0`` or ``=`` against the previous period; empty when unknown."""
    if now is None or before is None:
        return ""
    diff = now - before
    if abs(diff) < 1e-9:
        return " ="
    return f" {'▲' if diff > 0 else '▼'} {show(diff)}"


def pp(diff: float) -> str:
    return f"{diff:+.1f} pp"


def signed_duration(diff: float) -> str:
    return ("+" if diff > 0 else "") + duration(diff)


def signed_int(diff: float) -> str:
    return f"{int(diff):+d}"


def signed_mean(diff: float) -> str:
    return f"{diff:+.2f}"


def signed_money(diff: float) -> str:
    return f"{diff / 100:+,.2f}"
