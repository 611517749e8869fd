"""The dashboard's blocks beside the figures' table: times, service levels, themes and
deliveries, each as rows of text with a bar length (percent of the block's widest bar).

Every number is ``compute_kpis``' (or ``sla_summary``'s, as /kpi shows it), written in
/kpi's notation; a block without data is None, and the page leaves it out.
"""

from __future__ import annotations

from typing import Any

from bot.durations import duration
from bot.entrypoints.http.admin.svg import share
from bot.i18n import translate
from bot.operators.kpi_format import DASH, number
from bot.operators.kpi_view import sla_text
from bot.operators.theme_view import GROUP_HEADINGS, THEMES_DEF, label, points
from storage.read.kpi_defs import DELIVERY_DEF, DELIVERY_SCORES_DEF, TIMES_DEF, value
from storage.read.sla import SlaSummary, Targets

TIMES = (
    ("tickets.first_response_s.median", "First response: median"),
    ("tickets.first_response_s.p90", "First response: p90"),
    ("tickets.resolution_s.median", "Resolution: median"),
    ("tickets.resolution_s.p90", "Resolution: p90"),
)


def _pair(now: Any, before: Any, top: float, write: Any) -> dict[str, Any]:
    return {
        "now": write(now),
        "before": write(before),
        "now_w": share(now, top),
        "before_w": share(before, top),
    }


def times_block(cur: dict[str, Any], prev: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """First response and resolution, median and p90, this period beside the previous."""
    found = [(value(cur, key), value(prev, key)) for key, _ in TIMES]
    if all(now is None and before is None for now, before in found):
        return None
    top = max(float(v) for pair in found for v in pair if v is not None)
    rows = [
        {"label": translate(text, lang), "key": key} | _pair(now, before, top, duration)
        for (key, text), (now, before) in zip(TIMES, found, strict=True)
    ]
    return {"rows": rows, "definition": translate(TIMES_DEF, lang)}


def _pct(figure: float | None) -> str:
    return number(figure, 1, "%")


def sla_block(
    sla: SlaSummary, before: SlaSummary, targets: Targets, lang: str
) -> dict[str, Any] | None:
    """Targets met (%), this period beside the previous, and /kpi's SLA lines."""
    if not (sla.first_response_decided or sla.resolution_decided or before.first_response_decided):
        return None
    first, resolution = duration(targets.first_response_s), duration(targets.resolution_s)
    rows = [
        {"label": translate("First response ≤ {target} met", lang, target=first)}
        | _pair(sla.first_response_met_pct, before.first_response_met_pct, 100, _pct),
        {"label": translate("Resolution ≤ {target} met", lang, target=resolution)}
        | _pair(sla.resolution_met_pct, before.resolution_met_pct, 100, _pct),
    ]
    text = sla_text(sla, before, str(targets.hours), first, resolution, lang)
    return {"rows": rows, "text": text}


def themes_block(cur: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Each group with themed answers: its themes' shares, counts and change in points."""
    groups = []
    for group, heading in GROUP_HEADINGS.items():
        found: dict[str, Any] = (cur.get("themes") or {}).get(group) or {}
        if not found:
            continue
        rows = [
            {
                "theme": name,
                "label": label(name, lang),
                "share": _pct(f["share_pct"]),
                "width": share(f["share_pct"], 100),
                "count": f["count"],
                "change": points(f["change_pts"]).strip() or DASH,
            }
            for name, f in found.items()
        ]
        groups.append({"group": group, "heading": translate(heading, lang), "rows": rows})
    return groups


def themes_definition(lang: str) -> str:
    return translate(THEMES_DEF, lang)


def delivery_block(cur: dict[str, Any], prev: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """On time and late of the orders delivered, and the scores of each; None without any."""
    d: dict[str, Any] = cur.get("delivery") or {}
    if not d.get("delivered"):
        return None
    judged = int(d.get("on_time") or 0) + int(d.get("late") or 0)
    return {
        "delivered": d["delivered"],
        "on_time": d.get("on_time") or 0,
        "late": d.get("late") or 0,
        "judged": judged,
        "on_time_pct": _pct(d.get("on_time_pct")),
        "on_time_pct_before": _pct(value(prev, "delivery.on_time_pct")),
        "on_time_w": share(d.get("on_time") or 0, judged),
        "csat_on_time": number(d.get("csat_on_time"), 2),
        "csat_late": number(d.get("csat_late"), 2),
        "nps_on_time": number(d.get("nps_on_time")),
        "nps_late": number(d.get("nps_late")),
        "definition": translate(DELIVERY_DEF, lang) + " " + translate(DELIVERY_SCORES_DEF, lang),
    }
