"""The theme KPIs: what the detractors, passives, promoters and unhappy CSAT answers of a
period were about, and how that moved against the previous period of equal length.

share = answers of the group with that theme / answers of the group that have a theme,
in percent; ``change_pts`` = that share minus the previous period's, in percentage
points, from the exact counts (a theme absent then had 0%); null when the previous
period has no themed answer of the group, and for an unbounded period. A theme with no
answer in the period is absent. Counted from the answers' index alone
(``ix_survey_responses_kind_answered_theme``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from flows.themes import THEMES
from storage.models import SurveyResponse
from storage.read.figures import ratio

GROUPS = ("detractors", "passives", "promoters", "csat_low")
"""The keys of ``themes`` in ``kpi --json``: NPS 0-6, 7-8, 9-10, and CSAT 1-2."""

Counts = dict[str, dict[str, int]]  # group -> theme -> answers


def _nps_group() -> ColumnElement[str]:
    score = SurveyResponse.score
    return case((score <= 6, "detractors"), (score <= 8, "passives"), else_="promoters")


async def _counts(
    session: AsyncSession, since: datetime | None, until: datetime | None, split: datetime | None
) -> tuple[Counts, Counts]:
    """Themed answers per group and theme, before ``split`` and from it (or all of them)."""
    answered = SurveyResponse.answered_at
    current = answered >= split if split is not None else true()
    bounds = [answered >= since] if since is not None else []
    bounds += [answered < until] if until is not None else []
    now: Counts = defaultdict(dict)
    before: Counts = defaultdict(dict)
    kinds: tuple[tuple[str, ColumnElement[Any], list[ColumnElement[bool]]], ...] = (
        ("nps", _nps_group(), []),
        ("csat", literal("csat_low"), [SurveyResponse.score <= 2]),
    )
    for kind, group, extra in kinds:
        is_current = case((current, 1), else_=0).label("cur")
        query = (
            select(group.label("g"), SurveyResponse.theme, is_current, func.count())
            .where(SurveyResponse.kind == kind, SurveyResponse.theme.is_not(None), *bounds, *extra)
            .group_by("g", SurveyResponse.theme, "cur")
        )
        for name, theme, cur, n in (await session.execute(query)).all():
            (now if cur else before)[str(name)][str(theme)] = int(n)
    return now, before


def _change(count: int, total: int, count_before: int, total_before: int) -> float | None:
    if not total_before:
        return None
    exact = (Decimal(count) / total - Decimal(count_before) / total_before) * 100
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _group(now: dict[str, int], before: dict[str, int] | None) -> dict[str, Any]:
    total = sum(now.values())
    total_before = sum(before.values()) if before is not None else 0
    ranked = sorted(now, key=lambda t: (-now[t], THEMES.index(t) if t in THEMES else len(THEMES)))
    return {
        theme: {
            "share_pct": ratio(now[theme], total, 100),
            "count": now[theme],
            "change_pts": None
            if before is None
            else _change(now[theme], total, before.get(theme, 0), total_before),
        }
        for theme in ranked
    }


async def theme_kpis(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> dict[str, dict[str, Any]]:
    """The ``themes`` object of ``compute_kpis`` for the answers given in ``[since, until)``."""
    bounded = since is not None and until is not None
    previous = since - (until - since) if since is not None and until is not None else None
    now, before = await _counts(session, previous if bounded else since, until, since)
    return {g: _group(now.get(g, {}), before.get(g, {}) if bounded else None) for g in GROUPS}
