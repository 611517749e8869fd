"""Every KPI once: its key in ``compute_kpis``' object, its label, unit and definition.

``postsale kpi`` (the JSON object and the table), ``/kpi`` and ``/kpi help`` are all
made from this table. Labels and definitions are gettext message ids (English source
text, translated in ``bot/locales``); the keys are the contract of INTERFACE.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from flows.replies import N_

Unit = Literal["score", "mean", "pct", "count", "seconds", "cents"]
"""score: -100..100 (one decimal); mean: a 1-5 mean (two decimals); pct: percent;
count: a whole number; seconds: a duration; cents: money in the store's currency."""


@dataclass(frozen=True)
class KpiDef:
    """One figure and the JSON keys that belong to it (``parts``: the counts behind it)."""

    key: str  # dotted path of the figure in compute_kpis' object, e.g. "nps.score"
    label: str
    unit: Unit
    definition: str
    parts: tuple[str, ...] = ()


NPS_DEF = N_(
    "• NPS = % promoters (9-10) − % detractors (0-6), over the period's NPS answers (−100 to 100)."
)
CSAT_DEF = N_("• CSAT = mean score (1-5); satisfied = % of answers that are 4 or 5.")
TIMES_DEF = N_(
    "• First response = ticket opened → first operator reply; resolution = opened → "
    "resolved (median and p90 = 90% of tickets were faster)."
)
VALUE_DEF = N_(
    "• LTV = revenue / customers with orders; CAC = marketing spend / new customers "
    "(first order in the period)."
)
DELIVERY_DEF = N_(
    "• On time = delivered on or before the estimated delivery date, both as dates of the "
    "customer's calendar, of the orders delivered in the period (orders without an estimate "
    "count in neither on time nor late)."
)
DELIVERY_SCORES_DEF = N_(
    "• NPS and CSAT on time / late = of the answers about the orders delivered on time / late."
)

# fmt: off
KPIS: tuple[KpiDef, ...] = (
    KpiDef("nps.score", N_("NPS"), "score", NPS_DEF,
           ("nps.promoters", "nps.passives", "nps.detractors", "nps.responses")),
    KpiDef("csat.mean", N_("CSAT mean"), "mean", CSAT_DEF, ("csat.responses",)),
    KpiDef("csat.satisfied_pct", N_("CSAT satisfied"), "pct", CSAT_DEF),
    KpiDef("followups.response_rate_pct", N_("Response rate"), "pct",
           N_("• Response rate = answered follow-ups / follow-ups sent in the period."),
           ("followups.sent", "followups.answered")),
    KpiDef("tickets.opened", N_("Tickets opened"), "count",
           N_("• Tickets opened = tickets opened in the period; of those: open now, "
              "resolved, ever reopened."),
           ("tickets.open", "tickets.resolved", "tickets.reopened")),
    KpiDef("tickets.first_response_s.median", N_("First response"), "seconds", TIMES_DEF,
           ("tickets.first_response_s.mean", "tickets.first_response_s.p90")),
    KpiDef("tickets.resolution_s.median", N_("Resolution"), "seconds", TIMES_DEF,
           ("tickets.resolution_s.mean", "tickets.resolution_s.p90", "tickets.waiting_s.mean")),
    KpiDef("tickets.satisfaction.mean", N_("Ticket rating"), "mean",
           N_("• Ticket rating = mean of the customers' 1-5 ratings of their resolved "
              "tickets."),
           ("tickets.satisfaction.responses",)),
    KpiDef("customers.with_orders", N_("Customers"), "count",
           N_("• Customers = customers with an order in the period.")),
    KpiDef("customers.repeat_purchase_pct", N_("Repeat purchase"), "pct",
           N_("• Repeat purchase = customers with 2+ orders / customers with 1+ order.")),
    KpiDef("customers.churn_pct", N_("Churn"), "pct",
           N_("• Churn = customers who ordered in the previous period but not in this one / "
              "customers who ordered in the previous period.")),
    KpiDef("customers.ltv_cents", N_("LTV"), "cents", VALUE_DEF),
    KpiDef("customers.cac_cents", N_("CAC"), "cents", VALUE_DEF),
    KpiDef("delivery.on_time_pct", N_("Delivered on time"), "pct", DELIVERY_DEF,
           ("delivery.delivered", "delivery.on_time", "delivery.late")),
    KpiDef("delivery.csat_on_time", N_("CSAT, on time"), "mean", DELIVERY_SCORES_DEF),
    KpiDef("delivery.csat_late", N_("CSAT, late"), "mean", DELIVERY_SCORES_DEF),
    KpiDef("delivery.nps_on_time", N_("NPS, on time"), "score", DELIVERY_SCORES_DEF),
    KpiDef("delivery.nps_late", N_("NPS, late"), "score", DELIVERY_SCORES_DEF),
)
# fmt: on
BY_KEY: dict[str, KpiDef] = {k.key: k for k in KPIS}


def definitions() -> tuple[str, ...]:
    """Each definition once, in the table's order."""
    return tuple(dict.fromkeys(k.definition for k in KPIS))


def value(figures: dict[str, Any], key: str) -> Any:
    """The figure at the dotted ``key`` of ``compute_kpis``' object (None when absent)."""
    found: Any = figures
    for part in key.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    return found
