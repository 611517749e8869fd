"""The /kpi message: the figures of ``storage.read.kpi.compute_kpis``, compared with the
previous period of equal length, plus service levels in business hours.

Which figures there are, their units and definitions come from ``storage.read.kpi_defs``;
each line below names the figures it shows (a test checks that every one is shown).
The texts are gettext message ids rendered in the operator's language (``lang``);
numbers and durations keep one notation in every language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.durations import duration
from bot.i18n import ngettext, translate
from bot.operators.kpi_format import (
    DASH,
    change,
    money,
    number,
    pp,
    signed_duration,
    signed_int,
    signed_mean,
    signed_money,
)
from bot.operators.theme_view import THEMES_DEF, top_line
from flows.replies import N_
from storage.read.kpi_defs import TIMES_DEF, definitions
from storage.read.kpi_defs import value as figure_at
from storage.read.sla import SlaSummary, Spread

__all__ = ["DASH", "change", "definitions_text", "duration", "number", "summary_text"]

HEADING = N_("What the figures mean:")
SLA_DEF = N_(
    "• Business hours: the same times counted only in {hours} ({tz}); time waiting on the "
    "customer is left out of the resolution time. SLA met = % of tickets within the target "
    "(first response {first}, resolution {resolution}, in business hours)."
)
FOOTNOTE = N_('▲/▼ compare with the previous period of the same length; "pp" = percentage points.')


def definitions_text(lang: str, **targets: str) -> str:
    """/kpi help: every KPI's definition once; the business-hours note after the times."""
    lines = [translate(HEADING, lang)]
    for msgid in definitions():
        lines.append(translate(msgid, lang))
        if msgid == TIMES_DEF:
            lines.append(translate(SLA_DEF, lang, **targets))
    lines.append(translate(THEMES_DEF, lang))
    lines.append(translate(FOOTNOTE, lang))
    return "\n".join(lines)


@dataclass(frozen=True)
class Figures:
    """One period's figures beside the previous period's, and how to write them."""

    cur: dict[str, Any]
    prev: dict[str, Any]
    sla: SlaSummary
    sla_prev: SlaSummary
    lang: str
    currency: str
    hours: str
    first_target: str
    resolution_target: str

    def both(self, key: str) -> tuple[Any, Any]:
        return figure_at(self.cur, key), figure_at(self.prev, key)

    def now(self, key: str) -> Any:
        return figure_at(self.cur, key)

    def count(self, key: str) -> int:
        return int(self.now(key) or 0)


Line = Callable[["Figures"], str]
Write = Callable[["Figures", str], str]
"""How one placeholder of a /kpi line writes the figure at a key (and its change)."""


def _score(f: Figures, key: str) -> str:
    now, before = f.both(key)
    return number(now) + change(now, before)


def _pct(f: Figures, key: str) -> str:
    now, before = f.both(key)
    return number(now, 1, "%") + change(now, before, pp)


def _mean(f: Figures, key: str) -> str:
    return number(f.now(key), 2)


def _mean_change(f: Figures, key: str) -> str:
    return change(*f.both(key), signed_mean)


def _count(f: Figures, key: str) -> str:
    return str(f.count(key))


def _count_change(f: Figures, key: str) -> str:
    now, before = f.both(key)
    return f"{now or 0}{change(now, before, signed_int)}"


def _time(f: Figures, key: str) -> str:
    now, before = f.both(key)
    return duration(now) + change(now, before, signed_duration)


def _answers(f: Figures, key: str) -> str:
    return ngettext("{n} answer", "{n} answers", f.count(key), f.lang)


def _follow_ups(f: Figures, key: str) -> str:
    return ngettext("{n} follow-up", "{n} follow-ups", f.count(key), f.lang)


def _ratings(f: Figures, key: str) -> str:
    return ngettext("{n} rating", "{n} ratings", f.count(key), f.lang)


def _line(msgid: str, **params: tuple[Write, str]) -> tuple[tuple[str, ...], Line]:
    """A /kpi line: ``msgid`` with each placeholder written from the figure at its key."""

    def line(f: Figures) -> str:
        return translate(msgid, f.lang, **{p: write(f, key) for p, (write, key) in params.items()})

    return tuple(dict.fromkeys(key for _, key in params.values())), line


def _customers(f: Figures) -> str:
    ltv, ltv0 = f.both("customers.ltv_cents")
    cac, cac0 = f.both("customers.cac_cents")
    line = translate(
        "Customers with orders {customers} · repeat purchase {repeat} · churn {churn} · LTV {ltv}",
        f.lang,
        customers=f.count("customers.with_orders"),
        repeat=_pct(f, "customers.repeat_purchase_pct"),
        churn=_pct(f, "customers.churn_pct"),
        ltv=money(ltv, f.currency) + change(ltv, ltv0, signed_money),
    )
    if cac is not None:
        line += f" · CAC {money(cac, f.currency)}{change(cac, cac0, signed_money)}"
    return line


DELIVERY_KEYS = (
    "delivery.delivered", "delivery.on_time", "delivery.late", "delivery.on_time_pct",
    "delivery.csat_on_time", "delivery.csat_late", "delivery.nps_on_time", "delivery.nps_late",
)  # fmt: skip


def _delivery(f: Figures) -> str:
    """Deliveries, on time and late; nothing at all when nothing was delivered."""
    delivered = f.count("delivery.delivered")
    if not delivered:
        return ""
    judged = f.count("delivery.on_time") + f.count("delivery.late")
    if not judged:
        return translate("Delivered {delivered} · no estimates", f.lang, delivered=delivered)
    return translate(
        "Delivered {delivered} · on time {on_time_pct} ({on_time} of {judged}) · "
        "CSAT on time {csat_on_time}, late {csat_late} · NPS on time {nps_on_time}, "
        "late {nps_late}",
        f.lang,
        delivered=delivered,
        on_time_pct=_pct(f, "delivery.on_time_pct"),
        on_time=f.count("delivery.on_time"),
        judged=judged,
        csat_on_time=_mean(f, "delivery.csat_on_time"),
        csat_late=_mean(f, "delivery.csat_late"),
        nps_on_time=_score(f, "delivery.nps_on_time"),
        nps_late=_score(f, "delivery.nps_late"),
    )


def _themes(f: Figures) -> str:
    return top_line(f.now("themes"), f.lang)


def _sla(f: Figures) -> str:
    return sla_text(f.sla, f.sla_prev, f.hours, f.first_target, f.resolution_target, f.lang)


# fmt: off
LINES: tuple[tuple[tuple[str, ...], Line], ...] = (
    _line(N_("NPS {score} · promoters {promoters}, passives {passives}, detractors {detractors} "
             "({answers})"),
          score=(_score, "nps.score"), promoters=(_count, "nps.promoters"),
          passives=(_count, "nps.passives"), detractors=(_count, "nps.detractors"),
          answers=(_answers, "nps.responses")),
    _line(N_("CSAT {mean}/5{change} · satisfied {satisfied} ({answers})"),
          mean=(_mean, "csat.mean"), change=(_mean_change, "csat.mean"),
          satisfied=(_pct, "csat.satisfied_pct"), answers=(_answers, "csat.responses")),
    _line(N_("Response rate {rate} ({answered} of {sent})"),
          rate=(_pct, "followups.response_rate_pct"), answered=(_count, "followups.answered"),
          sent=(_follow_ups, "followups.sent")),
    _line(N_("Tickets opened {opened} · open now {open} · resolved {resolved} · "
             "reopened {reopened}"),
          opened=(_count_change, "tickets.opened"), open=(_count, "tickets.open"),
          resolved=(_count, "tickets.resolved"), reopened=(_count, "tickets.reopened")),
    _line(N_("Ticket rating {mean}/5{change} ({ratings}, given after resolution)"),
          mean=(_mean, "tickets.satisfaction.mean"),
          change=(_mean_change, "tickets.satisfaction.mean"),
          ratings=(_ratings, "tickets.satisfaction.responses")),
    _line(N_("First response: median {median} · p90 {p90}"),
          median=(_time, "tickets.first_response_s.median"),
          p90=(_time, "tickets.first_response_s.p90")),
    _line(N_("Resolution: median {median} · p90 {p90}"),
          median=(_time, "tickets.resolution_s.median"), p90=(_time, "tickets.resolution_s.p90")),
    ((), _sla),  # service levels come from storage.read.sla, not from compute_kpis
    (("customers.with_orders", "customers.repeat_purchase_pct", "customers.churn_pct",
      "customers.ltv_cents", "customers.cac_cents"), _customers),
    (DELIVERY_KEYS, _delivery),
    (("themes",), _themes),
)
# fmt: on
"""The lines of /kpi in order, each with the ``compute_kpis`` keys it shows."""


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
    f = Figures(cur, prev, sla, sla_prev, lang, currency, hours, first_target, resolution_target)
    heading = translate("📊 KPIs, {title} (▲▼ vs the previous period)", lang, title=title)
    return "\n".join([heading, *filter(None, (line(f) for _, line in LINES))])


def _spread(spread: Spread | None, lang: str) -> str:
    if spread is None:
        return DASH
    return translate(
        "median {median}, p90 {p90}", lang, median=duration(spread.median), p90=duration(spread.p90)
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
    return translate(
        "SLA in business hours ({hours}): first response ≤ {first_target} met {first} "
        "({first_met}/{first_decided}) · resolution ≤ {resolution_target} met {resolution} "
        "({resolution_met}/{resolution_decided})\n"
        "  business-hours times: first response {first_times} · resolution "
        "{resolution_times} (without waiting on the customer) · waited {waited}",
        lang,
        hours=hours,
        first_target=first_target,
        first=number(first, 1, "%") + change(first, first0, pp),
        first_met=sla.first_response_met,
        first_decided=sla.first_response_decided,
        resolution_target=resolution_target,
        resolution=number(res, 1, "%") + change(res, res0, pp),
        resolution_met=sla.resolution_met,
        resolution_decided=sla.resolution_decided,
        first_times=_spread(sla.first_response_bs, lang),
        resolution_times=_spread(sla.resolution_bs, lang),
        waited=_spread(sla.waiting_s, lang),
    )
