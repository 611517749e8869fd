"""The dashboard: the /kpi figures of a period beside the previous period's.

The figures are ``compute_kpis``' -- the object ``postsale kpi --json`` prints -- for
the period ``bot.operators.periods`` reads as /kpi does (``7d``, ``30d``, ``90d`` up
to now, or whole days ``YYYY-MM-DD..YYYY-MM-DD`` in the operators' time zone). Each
figure's definition is one click away (a ``<details>``), from ``storage.read.kpi_defs``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.entrypoints.http.admin import dashboard_blocks as blocks
from bot.entrypoints.http.admin.guard import Visit, staff_page
from bot.entrypoints.http.admin.pages import url_with
from bot.entrypoints.http.admin.svg import HEIGHT, WIDTH, ticket_bars, weekly_charts
from bot.operators.alerts import targets_of
from bot.operators.kpi_format import change, show
from bot.operators.periods import BadPeriod, Period, parse_period, period_label
from storage.read.currency import main_currency
from storage.read.kpi import compute_kpis, weekly_scores
from storage.read.kpi_defs import KPIS, value
from storage.read.sla import sla_summary
from storage.read.ticket_weeks import ticket_weeks

PRESETS = ("7d", "30d", "90d")


def _period_text(query: Any) -> str:
    since, until = query.get("since", "").strip(), query.get("until", "").strip()
    if since and until:
        return f"{since}..{until}"
    preset = query.get("period", "30d")
    return preset if preset in PRESETS else "30d"


def _rows(cur: dict[str, Any], prev: dict[str, Any], currency: str) -> list[dict[str, Any]]:
    rows = []
    for kpi in KPIS:
        now, before = value(cur, kpi.key), value(prev, kpi.key)
        moved = change(now, before) if kpi.unit != "seconds" and kpi.unit != "cents" else ""
        rows.append(
            {
                "key": kpi.key,
                "label": kpi.label,
                "definition": kpi.definition,
                "now": show(kpi, now, currency),
                "before": show(kpi, before, currency),
                "change": moved.strip(),
                "raw": now,
            }
        )
    return rows


async def _figures(v: Visit, period: Period, with_sla: bool) -> dict[str, Any]:
    zone = v.admin.settings.default_timezone
    before = period.previous
    async with v.admin.db.reader() as uow:
        s = uow.session
        cur = await compute_kpis(s, period.since, period.until, v.now, default_zone=zone)
        prev = await compute_kpis(s, before.since, before.until, v.now, default_zone=zone)
        weeks = await weekly_scores(s, period.since, period.until)
        tickets = await ticket_weeks(s, period.since, period.until)
        currency = await main_currency(s)
        sla = sla_prev = None
        try:
            targets = targets_of(v.admin.settings)
        except ValueError:  # a bad BUSINESS_HOURS: /kpi says so; the page shows the rest
            targets = None
        # Business hours are worked out ticket by ticket (about 3 s for two 30-day periods
        # at 200,000 tickets): asked for by a link, so the dashboard itself stays fast.
        if targets is not None and with_sla:
            sla = await sla_summary(s, period.since, period.until, targets, v.now)
            sla_prev = await sla_summary(s, before.since, before.until, targets, v.now)
    found: dict[str, Any] = {"cur": cur, "prev": prev, "weeks": weeks, "currency": currency}
    found["tickets"] = tickets
    lang = v.lang
    found["times"] = blocks.times_block(cur, prev, lang)
    found["sla"] = (
        blocks.sla_block(sla, sla_prev, targets, lang) if sla and sla_prev and targets else None
    )
    found["themes"] = blocks.themes_block(cur, lang)
    found["delivery"] = blocks.delivery_block(cur, prev, lang)
    return found


@staff_page("kpi")
async def dashboard(v: Visit) -> web.StreamResponse:
    text = _period_text(v.request.query)
    bad = False
    try:
        period = parse_period(text, v.now, v.admin.settings.operators_tz)
    except BadPeriod:
        bad, text = True, "30d"
        period = parse_period(text, v.now, v.admin.settings.operators_tz)
    with_sla = v.request.query.get("sla") == "1"
    found = await _figures(v, period, with_sla)
    return v.page(
        "dashboard.html",
        status=400 if bad else 200,
        bad_period=bad,
        chosen=text,
        presets=PRESETS,
        label=period_label(period, v.lang),
        since=v.request.query.get("since", ""),
        until=v.request.query.get("until", ""),
        rows=_rows(found["cur"], found["prev"], found["currency"]),
        figures=found["cur"],
        charts=weekly_charts(found["weeks"]) if found["weeks"] else None,
        ticket_weeks=found["tickets"],
        bars=ticket_bars(found["tickets"]),
        times=found["times"],
        sla=found["sla"],
        sla_url=None if with_sla else url_with(v.request, sla="1") + "#sla",
        themes=found["themes"],
        themes_definition=blocks.themes_definition(v.lang),
        delivery=found["delivery"],
        width=WIDTH,
        height=HEIGHT,
    )
