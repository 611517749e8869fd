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
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from bot.app import open_database
from bot.settings import Settings
from storage.read.kpi import compute_kpis

DEFINITIONS = """\
Definitions (answers given, follow-ups sent, tickets opened and orders bought in the period):
  NPS       % promoters (9-10) - % detractors (0-6) of the NPS answers
  CSAT      mean score (1-5) and % satisfied (4-5) of the CSAT answers
  response  follow-ups answered / follow-ups sent
  times     first response: opened -> first operator reply; resolution: opened -> resolved
            (median and p90 interpolated between ranks; waiting = time resolved tickets
            spent waiting on the customer, included in resolution)
  repeat    customers with 2+ orders / customers with 1+ order
  churn     customers who bought in the previous period of equal length but not in this
            one / customers who bought in the previous period (none for all time)
  LTV       revenue / customers with orders;  CAC = marketing spend of the months in the
            period / customers whose first order is in the period
  -         no data for that figure"""


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
            figures = await compute_kpis(uow.session, since, until, datetime.now(UTC))
    finally:
        await db.close()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(table(figures, tz))
    return 0


def _num(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}"
    return f"{value:,}{unit}"


def _money(cents: int | None) -> str:
    return "-" if cents is None else f"{cents / 100:,.2f}"


def duration(seconds: float | None) -> str:
    """``5400`` -> ``1h 30m``; ``-`` for no data."""
    if seconds is None:
        return "-"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes, _ = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def _when(stamp: str | None, tz: tzinfo, *, end: bool) -> str:
    if stamp is None:
        return "the end" if end else "the beginning"
    moment = datetime.fromisoformat(stamp).astimezone(tz)
    if moment.time() == time():
        return (moment.date() - timedelta(days=1 if end else 0)).isoformat()
    return moment.strftime("%Y-%m-%d %H:%M")


def table(figures: dict[str, Any], tz: tzinfo) -> str:
    """The readable summary: one aligned line per figure, then the definitions."""
    period = figures["period"]
    nps, csat, fu = figures["nps"], figures["csat"], figures["followups"]
    tickets, customers = figures["tickets"], figures["customers"]
    since = _when(period["since"], tz, end=False)
    until = _when(period["until"], tz, end=True)
    first, resolution = tickets["first_response_s"], tickets["resolution_s"]
    rows: list[tuple[str, str, str]] = [
        (
            "NPS",
            _num(nps["score"]),
            f"{nps['responses']:,} answers: {nps['promoters']:,} "
            f"promoters, {nps['passives']:,} passives, {nps['detractors']:,} detractors",
        ),
        ("CSAT mean", _num(csat["mean"]), f"{csat['responses']:,} answers"),
        ("CSAT satisfied", _num(csat["satisfied_pct"], " %"), "answers of 4 or 5"),
        (
            "Response rate",
            _num(fu["response_rate_pct"], " %"),
            f"{fu['answered']:,} answered of {fu['sent']:,} follow-ups sent",
        ),
        (
            "Tickets opened",
            _num(tickets["opened"]),
            f"{tickets['open']:,} still open, {tickets['resolved']:,} resolved, "
            f"{tickets['reopened']:,} reopened",
        ),
        (
            "First response",
            duration(first["mean"]),
            f"mean; median {duration(first['median'])}, p90 {duration(first['p90'])}",
        ),
        (
            "Resolution",
            duration(resolution["mean"]),
            f"mean; median {duration(resolution['median'])}, p90 {duration(resolution['p90'])}; "
            f"waiting on customer {duration(tickets.get('waiting_s', {}).get('mean'))}",
        ),
        (
            "Ticket rating",
            _num(tickets.get("satisfaction", {}).get("mean")),
            f"mean of {tickets.get('satisfaction', {}).get('responses', 0):,} ratings "
            "(1-5, given after resolution)",
        ),
        ("Customers", _num(customers["with_orders"]), "with an order in the period"),
        ("Repeat purchase", _num(customers["repeat_purchase_pct"], " %"), "2+ orders"),
        ("Churn", _num(customers["churn_pct"], " %"), "vs the previous period"),
        ("LTV", _money(customers["ltv_cents"]), "revenue per customer with orders"),
        ("CAC", _money(customers["cac_cents"]), "spend per new customer"),
    ]
    label_w = max(len(r[0]) for r in rows)
    value_w = max(len(r[1]) for r in rows)
    zone = getattr(tz, "key", tz)
    if period["since"] is None and period["until"] is None:
        heading = f"KPIs of all time ({zone})"
    else:
        heading = f"KPIs from {since} to {until} (inclusive, {zone})"
    lines = [heading, ""]
    lines += [f"  {a:<{label_w}}  {b:>{value_w}}   {c}" for a, b, c in rows]
    return "\n".join([*lines, "", DEFINITIONS])
