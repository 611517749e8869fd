"""The /kpi message: the figures of ``storage.kpi.compute_kpis``, compared with the
previous period of equal length, plus service levels in business hours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storage.sla import SlaSummary, Spread

DASH = "—"

DEFINITIONS = """\
What the figures mean:
• NPS = % promoters (9-10) − % detractors (0-6), over the period's NPS answers (−100 to 100).
• CSAT = mean score (1-5); satisfied = % of answers that are 4 or 5.
• Response rate = answered follow-ups / follow-ups sent in the period.
• First response = ticket opened → first operator reply; resolution = opened → resolved \
(median and p90 = 90% of tickets were faster).
• Business hours: the same times counted only in {hours} ({tz}); time waiting on the \
customer is left out of the resolution time. SLA met = % of tickets within the target \
(first response {first}, resolution {resolution}, in business hours).
• Repeat purchase = customers with 2+ orders / customers with 1+ order.
• Churn = customers who ordered in the previous period but not in this one / customers \
who ordered in the previous period.
• LTV = revenue / customers with orders; CAC = marketing spend / new customers (first \
order in the period).
▲/▼ compare with the previous period of the same length; "pp" = percentage points."""


def duration(seconds: float | None) -> str:
    """``45s``, ``12m``, ``3h 05m``, ``2d 4h``; a dash for no value."""
    if seconds is None:
        return DASH
    s = int(round(abs(seconds)))
    sign = "-" if seconds < 0 else ""
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        return f"{sign}{s // 60}m"
    if s < 86400:
        hours, minutes = s // 3600, s % 3600 // 60
        return f"{sign}{hours}h {minutes:02d}m" if minutes else f"{sign}{hours}h"
    days, hours = s // 86400, s % 86400 // 3600
    return f"{sign}{days}d {hours}h" if hours else f"{sign}{days}d"


def number(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return DASH if value is None else f"{value:.{digits}f}{suffix}"


def money(cents: float | None, currency: str) -> str:
    return DASH if cents is None else f"{cents / 100:,.2f} {currency}".strip()


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


def _pp(diff: float) -> str:
    return f"{diff:+.1f} pp"


def _dur(diff: float) -> str:
    return ("+" if diff > 0 else "") + duration(diff)


def _int(diff: float) -> str:
    return f"{int(diff):+d}"


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)  # type: ignore[assignment]
    return data


def counted(n: int, noun: str) -> str:
    """``1 answer``, ``2 answers`` (the operator screens are in English)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary_text(
    title: str,
    cur: dict[str, Any],
    prev: dict[str, Any],
    sla: SlaSummary,
    sla_prev: SlaSummary,
    *,
    currency: str,
    hours: str,
    first_target: str,
    resolution_target: str,
) -> str:
    """The compact KPI summary (one figure family a line)."""

    def both(*path: str) -> tuple[Any, Any]:
        return _get(cur, *path), _get(prev, *path)

    lines = [f"📊 KPIs, {title} (▲▼ vs the previous period)"]
    nps, nps0 = both("nps", "score")
    n = cur.get("nps") or {}
    lines.append(
        f"NPS {number(nps)}{change(nps, nps0)} · promoters {n.get('promoters', 0)}, "
        f"passives {n.get('passives', 0)}, detractors {n.get('detractors', 0)} "
        f"({counted(n.get('responses') or 0, 'answer')})"
    )
    mean, mean0 = both("csat", "mean")
    sat, sat0 = both("csat", "satisfied_pct")
    lines.append(
        f"CSAT {number(mean, 2)}/5{change(mean, mean0, lambda d: f'{d:+.2f}')} · "
        f"satisfied {number(sat, 1, '%')}{change(sat, sat0, _pp)} "
        f"({counted(_get(cur, 'csat', 'responses') or 0, 'answer')})"
    )
    rate, rate0 = both("followups", "response_rate_pct")
    lines.append(
        f"Response rate {number(rate, 1, '%')}{change(rate, rate0, _pp)} "
        f"({_get(cur, 'followups', 'answered') or 0} of "
        f"{counted(_get(cur, 'followups', 'sent') or 0, 'follow-up')})"
    )
    opened, opened0 = both("tickets", "opened")
    lines.append(
        f"Tickets opened {opened or 0}{change(opened, opened0, _int)} · "
        f"open now {_get(cur, 'tickets', 'open') or 0} · "
        f"resolved {_get(cur, 'tickets', 'resolved') or 0} · "
        f"reopened {_get(cur, 'tickets', 'reopened') or 0}"
    )
    rated, rated0 = both("tickets", "satisfaction", "mean")
    lines.append(
        f"Ticket rating {number(rated, 2)}/5{change(rated, rated0, lambda d: f'{d:+.2f}')} "
        f"({counted(_get(cur, 'tickets', 'satisfaction', 'responses') or 0, 'rating')}, "
        "given after resolution)"
    )
    for label, key in (("First response", "first_response_s"), ("Resolution", "resolution_s")):
        med, med0 = both("tickets", key, "median")
        p90, p900 = both("tickets", key, "p90")
        lines.append(
            f"{label}: median {duration(med)}{change(med, med0, _dur)} · "
            f"p90 {duration(p90)}{change(p90, p900, _dur)}"
        )
    lines.append(sla_text(sla, sla_prev, hours, first_target, resolution_target))
    rep, rep0 = both("customers", "repeat_purchase_pct")
    churn, churn0 = both("customers", "churn_pct")
    ltv, ltv0 = both("customers", "ltv_cents")
    cac, cac0 = both("customers", "cac_cents")
    line = (
        f"Customers with orders {_get(cur, 'customers', 'with_orders') or 0} · "
        f"repeat purchase {number(rep, 1, '%')}{change(rep, rep0, _pp)} · "
        f"churn {number(churn, 1, '%')}{change(churn, churn0, _pp)} · "
        f"LTV {money(ltv, currency)}"
        f"{change(ltv, ltv0, lambda d: f'{d / 100:+,.2f}')}"
    )
    if cac is not None:
        line += f" · CAC {money(cac, currency)}{change(cac, cac0, lambda d: f'{d / 100:+,.2f}')}"
    lines.append(line)
    return "\n".join(lines)


def _spread(value: Spread | None) -> str:
    if value is None:
        return DASH
    return f"median {duration(value.median)}, p90 {duration(value.p90)}"


def sla_text(
    sla: SlaSummary, before: SlaSummary, hours: str, first_target: str, resolution_target: str
) -> str:
    first, first0 = sla.first_response_met_pct, before.first_response_met_pct
    res, res0 = sla.resolution_met_pct, before.resolution_met_pct
    return (
        f"SLA in business hours ({hours}): first response ≤ {first_target} met "
        f"{number(first, 1, '%')}{change(first, first0, _pp)} "
        f"({sla.first_response_met}/{sla.first_response_decided}) · resolution ≤ "
        f"{resolution_target} met {number(res, 1, '%')}{change(res, res0, _pp)} "
        f"({sla.resolution_met}/{sla.resolution_decided})\n"
        f"  business-hours times: first response {_spread(sla.first_response_bs)} · "
        f"resolution {_spread(sla.resolution_bs)} (without waiting on the customer) · waited "
        f"{_spread(sla.waiting_s)}"
    )
