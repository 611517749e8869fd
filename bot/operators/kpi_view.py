"""The /kpi message: the figures of ``storage.read.kpi.compute_kpis``, compared with the
previous period of equal length, plus service levels in business hours.

The texts are gettext message ids rendered in the operator's language (``lang``);
numbers and durations keep one notation in every language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.i18n import ngettext, translate
from flows.replies import N_
from storage.read.sla import SlaSummary, Spread

DASH = "—"

DEFINITIONS = N_("""\
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
▲/▼ compare with the previous period of the same length; "pp" = percentage points.""")


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


def summary_text(
    title: str,
    cur: dict[str, Any],
    prev: dict[str, Any],
    sla: SlaSummary,
    sla_prev: SlaSummary,
    *,
    lang: str,
    currency: str,
    hours: str,
    first_target: str,
    resolution_target: str,
) -> str:
    """The compact KPI summary (one figure family a line)."""

    def both(*path: str) -> tuple[Any, Any]:
        return _get(cur, *path), _get(prev, *path)

    def _(msgid: str, **params: Any) -> str:  # gettext's name, for extraction
        return translate(msgid, lang, **params)

    def answers(n: int | None) -> str:
        return ngettext("{n} answer", "{n} answers", n or 0, lang)

    lines = [_("📊 KPIs, {title} (▲▼ vs the previous period)", title=title)]
    nps, nps0 = both("nps", "score")
    n = cur.get("nps") or {}
    lines.append(
        _(
            "NPS {score} · promoters {promoters}, passives {passives}, detractors {detractors} "
            "({answers})",
            score=number(nps) + change(nps, nps0),
            promoters=n.get("promoters", 0),
            passives=n.get("passives", 0),
            detractors=n.get("detractors", 0),
            answers=answers(n.get("responses")),
        )
    )
    mean, mean0 = both("csat", "mean")
    sat, sat0 = both("csat", "satisfied_pct")
    lines.append(
        _(
            "CSAT {mean}/5{change} · satisfied {satisfied} ({answers})",
            mean=number(mean, 2),
            change=change(mean, mean0, lambda d: f"{d:+.2f}"),
            satisfied=number(sat, 1, "%") + change(sat, sat0, _pp),
            answers=answers(_get(cur, "csat", "responses")),
        )
    )
    rate, rate0 = both("followups", "response_rate_pct")
    lines.append(
        _(
            "Response rate {rate} ({answered} of {sent})",
            rate=number(rate, 1, "%") + change(rate, rate0, _pp),
            answered=_get(cur, "followups", "answered") or 0,
            sent=ngettext(
                "{n} follow-up", "{n} follow-ups", _get(cur, "followups", "sent") or 0, lang
            ),
        )
    )
    opened, opened0 = both("tickets", "opened")
    lines.append(
        _(
            "Tickets opened {opened} · open now {open} · resolved {resolved} · reopened {reopened}",
            opened=f"{opened or 0}{change(opened, opened0, _int)}",
            open=_get(cur, "tickets", "open") or 0,
            resolved=_get(cur, "tickets", "resolved") or 0,
            reopened=_get(cur, "tickets", "reopened") or 0,
        )
    )
    rated, rated0 = both("tickets", "satisfaction", "mean")
    lines.append(
        _(
            "Ticket rating {mean}/5{change} ({ratings}, given after resolution)",
            mean=number(rated, 2),
            change=change(rated, rated0, lambda d: f"{d:+.2f}"),
            ratings=ngettext(
                "{n} rating",
                "{n} ratings",
                _get(cur, "tickets", "satisfaction", "responses") or 0,
                lang,
            ),
        )
    )
    for label, key in (
        (N_("First response: median {median} · p90 {p90}"), "first_response_s"),
        (N_("Resolution: median {median} · p90 {p90}"), "resolution_s"),
    ):
        med, med0 = both("tickets", key, "median")
        p90, p900 = both("tickets", key, "p90")
        lines.append(
            _(
                label,
                median=duration(med) + change(med, med0, _dur),
                p90=duration(p90) + change(p90, p900, _dur),
            )
        )
    lines.append(sla_text(sla, sla_prev, hours, first_target, resolution_target, lang))
    lines.append(_customers_line(cur, prev, currency, lang))
    return "\n".join(lines)


def _customers_line(cur: dict[str, Any], prev: dict[str, Any], currency: str, lang: str) -> str:
    def both(*path: str) -> tuple[Any, Any]:
        return _get(cur, *path), _get(prev, *path)

    rep, rep0 = both("customers", "repeat_purchase_pct")
    churn, churn0 = both("customers", "churn_pct")
    ltv, ltv0 = both("customers", "ltv_cents")
    cac, cac0 = both("customers", "cac_cents")
    line = translate(
        "Customers with orders {customers} · repeat purchase {repeat} · churn {churn} · LTV {ltv}",
        lang,
        customers=_get(cur, "customers", "with_orders") or 0,
        repeat=number(rep, 1, "%") + change(rep, rep0, _pp),
        churn=number(churn, 1, "%") + change(churn, churn0, _pp),
        ltv=money(ltv, currency) + change(ltv, ltv0, lambda d: f"{d / 100:+,.2f}"),
    )
    if cac is not None:
        line += f" · CAC {money(cac, currency)}{change(cac, cac0, lambda d: f'{d / 100:+,.2f}')}"
    return line


def _spread(value: Spread | None, lang: str) -> str:
    if value is None:
        return DASH
    return translate(
        "median {median}, p90 {p90}", lang, median=duration(value.median), p90=duration(value.p90)
    )


def sla_text(
    sla: SlaSummary,
    before: SlaSummary,
    hours: str,
    first_target: str,
    resolution_target: str,
    lang: str,
) -> str:
    first, first0 = sla.first_response_met_pct, before.first_response_met_pct
    res, res0 = sla.resolution_met_pct, before.resolution_met_pct

    def spread(value: Spread | None) -> str:
        return _spread(value, lang)

    return translate(
        "SLA in business hours ({hours}): first response ≤ {first_target} met {first} "
        "({first_met}/{first_decided}) · resolution ≤ {resolution_target} met {resolution} "
        "({resolution_met}/{resolution_decided})\n"
        "  business-hours times: first response {first_times} · resolution "
        "{resolution_times} (without waiting on the customer) · waited {waited}",
        lang,
        hours=hours,
        first_target=first_target,
        first=number(first, 1, "%") + change(first, first0, _pp),
        first_met=sla.first_response_met,
        first_decided=sla.first_response_decided,
        resolution_target=resolution_target,
        resolution=number(res, 1, "%") + change(res, res0, _pp),
        resolution_met=sla.resolution_met,
        resolution_decided=sla.resolution_decided,
        first_times=spread(sla.first_response_bs),
        resolution_times=spread(sla.resolution_bs),
        waited=spread(sla.waiting_s),
    )
