"""Exact rounding of KPI figures from integer sums and counts, the same on every backend."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_ONE_DECIMAL = Decimal("0.1")


def ratio(numerator: int | None, denominator: int | None, scale: int = 1) -> float | None:
    """``numerator * scale / denominator`` rounded half-up to 0.1; None without data."""
    if numerator is None or not denominator:
        return None
    exact = Decimal(numerator) * scale / Decimal(denominator)
    return float(exact.quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP))


def cents(numerator: int | None, denominator: int | None) -> int | None:
    """``numerator / denominator`` rounded half-up to a whole cent; None without data."""
    if numerator is None or not denominator:
        return None
    return int((Decimal(numerator) / denominator).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def nps_score(promoters: int, detractors: int, responses: int) -> float | None:
    """% promoters - % detractors, to one decimal; None without answers."""
    return ratio(promoters - detractors, responses, 100)
