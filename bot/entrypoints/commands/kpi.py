"""``postsale kpi [--since D] [--until D] [--json]``: the KPI summary of a period.

``D`` is a date (``2026-03-01``) or an ISO datetime, read in ``DEFAULT_TIMEZONE`` when
it has no offset. ``--since`` starts at that moment (a date: its midnight); ``--until``
given as a date includes that whole day, given as a datetime ends just before it.
No bound: all time. ``--json`` prints the object of INTERFACE.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from bot.app import open_database
from bot.durations import duration
from bot.i18n import translate
from bot.operators.kpi_format import DASH, number, show
from bot.operators.theme_view import GROUP_HEADINGS, THEMES_DEF, points
from bot.settings import Settings
from storage.read.kpi import compute_kpis
from storage.read.kpi_defs import KPIS, definitions, value

INTRO = (
    "Definitions (answers given, follow-ups sent, tickets opened and orders bought in the period):"
)


class BadDate(ValueError):
    """A ``--since``/``--until`` value that is neither a date nor an ISO datetime."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="D", help="from this date or time (inclusive)")
    parser.add_argument("--until", metavar="D", help="to this date (inclusive) or time (exclusive)")
    parser.add_argument("--json", action="store_true", help="print the JSON object")


def parse_bound(value: str, tz: tzinfo, *, end: bool) -> datetime:
    """A command-line bound as an aware datetime; an ``end`` date means the next midnight."""
    text = value.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        midnight = datetime.combine(day + timedelta(days=1 if end else 0), time(), tz)
        return midnight
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadDate(f"not a date (YYYY-MM-DD) or ISO datetime: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    tz = settings.tz
    try:
        since = parse_bound(args.since, tz, end=False) if args.since else None
        until = parse_bound(args.until, tz, end=True) if args.until else None
    except BadDate as exc:
        print(f"postsale kpi: {exc}", file=sys.stderr)
        return 2
    if since and until and until <= since:
        print("postsale kpi: --until is before --since", file=sys.stderr)
        return 2
    db = await open_database(settings)
    try:
        async with db.uow() as uow:
            figures = await compute_kpis(
                uow.session, since, until, datetime.now(UTC), default_zone=settings.default_timezone
            )
    finally:
        await db.close()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(table(figures, tz))
    return 0


def _when(stamp: str | None, tz: tzinfo, *, end: bool) -> str:
    if stamp is None:
        return "the end" if end else "the beginning"
    moment = datetime.fromisoformat(stamp).astimezone(tz)
    if moment.time() == time():
        return (moment.date() - timedelta(days=1 if end else 0)).isoformat()
    return moment.strftime("%Y-%m-%d %H:%M")


# What each row adds beside its figure (the rows are storage.read.kpi_defs.KPIS):
# {v[key]} is a figure of compute_kpis' object, {d[key]} one written as a duration.
DETAILS: dict[str, str] = {
    "nps.score": "{v[nps.responses]:,} answers: {v[nps.promoters]:,} promoters, "
    "{v[nps.passives]:,} passives, {v[nps.detractors]:,} detractors",
    "csat.mean": "{v[csat.responses]:,} answers",
    "csat.satisfied_pct": "answers of 4 or 5",
    "followups.response_rate_pct": "{v[followups.answered]:,} answered of "
    "{v[followups.sent]:,} follow-ups sent",
    "tickets.opened": "{v[tickets.open]:,} still open, {v[tickets.resolved]:,} resolved, "
    "{v[tickets.reopened]:,} reopened",
    "tickets.first_response_s.median": "median; mean {d[tickets.first_response_s.mean]}, "
    "p90 {d[tickets.first_response_s.p90]}",
    "tickets.resolution_s.median": "median; mean {d[tickets.resolution_s.mean]}, "
    "p90 {d[tickets.resolution_s.p90]}; waiting on customer {d[tickets.waiting_s.mean]}",
    "tickets.satisfaction.mean": "mean of {v[tickets.satisfaction.responses]:,} ratings "
    "(1-5, given after resolution)",
    "customers.with_orders": "with an order in the period",
    "customers.repeat_purchase_pct": "2+ orders",
    "customers.churn_pct": "vs the previous period",
    "customers.ltv_cents": "revenue per customer with orders",
    "customers.cac_cents": "spend per new customer",
    "delivery.on_time_pct": "{v[delivery.on_time]:,} on time, {v[delivery.late]:,} late, of "
    "{v[delivery.delivered]:,} delivered (those without an estimate in neither)",
    "delivery.csat_on_time": "answers about orders delivered on time",
    "delivery.csat_late": "answers about orders delivered late",
    "delivery.nps_on_time": "answers about orders delivered on time",
    "delivery.nps_late": "answers about orders delivered late",
}


class _Figures(dict[str, Any]):
    """``compute_kpis``' object read by dotted key (for ``str.format``)."""

    def __init__(self, figures: dict[str, Any], written: Callable[[Any], Any] = lambda x: x):
        super().__init__()
        self.figures, self.written = figures, written

    def __missing__(self, key: str) -> Any:
        return self.written(value(self.figures, key))


def _heading(period: dict[str, Any], tz: tzinfo) -> str:
    zone = getattr(tz, "key", tz)
    if period["since"] is None and period["until"] is None:
        return f"KPIs of all time ({zone})"
    since = _when(period["since"], tz, end=False)
    until = _when(period["until"], tz, end=True)
    return f"KPIs from {since} to {until} (inclusive, {zone})"


def theme_rows(themes: dict[str, Any]) -> list[str]:
    """Each group's themes, most frequent first: share, count and change in points."""
    lines = ["", "  Themes (share of the answers with a theme):"]
    for group, heading in GROUP_HEADINGS.items():
        found = themes.get(group) or {}
        shares = ", ".join(
            f"{name} {number(f['share_pct'], 1, '%')} ({f['count']:,}){points(f['change_pts'])}"
            for name, f in found.items()
        )
        lines.append(f"    {translate(heading, 'en'):<22}{shares or DASH}")
    return lines


def table(figures: dict[str, Any], tz: tzinfo) -> str:
    """The readable summary: one aligned line per KPI, then the definitions (in English)."""

    v, d = _Figures(figures), _Figures(figures, duration)
    rows = [
        (translate(k.label, "en"), show(k, v[k.key]), DETAILS.get(k.key, "").format(v=v, d=d))
        for k in KPIS
    ]
    label_w = max(len(r[0]) for r in rows)
    value_w = max(len(r[1]) for r in rows)
    lines = [_heading(figures["period"], tz), ""]
    lines += [f"  {a:<{label_w}}  {b:>{value_w}}   {c}" for a, b, c in rows]
    lines += theme_rows(figures.get("themes") or {})
    notes = [INTRO, *(f"  {translate(d, 'en')}" for d in (*definitions(), THEMES_DEF))]
    return "\n".join([*lines, "", *notes, f"  {DASH}  no data for that figure"])
