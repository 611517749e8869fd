"""The KPI figures by hand-written SQL through ``sqlite3``: the baseline of ``benchmarks.kpi``.

The same definitions as ``storage.read.kpi`` (and the same exact rounding, from
``storage.read.figures``), without SQLAlchemy or asyncio, and with no time condition at
all for all time: the least any engine must spend on this schema.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.read.figures import cents, nps_score, ratio

FORMAT = "%Y-%m-%d %H:%M:%S.%f"

SURVEYS = """
SELECT kind, count(*), sum(score >= 9), sum(score <= 6), sum(score >= 4), sum(score)
FROM survey_responses WHERE kind IN ('nps', 'csat') {answered_at} GROUP BY kind"""
FOLLOWUPS = """
SELECT count(*), count(answered_at) FROM followups WHERE sent_at IS NOT NULL {sent_at}"""
TICKETS = """
SELECT count(*), coalesce(sum(status IN ('open', 'waiting_customer')), 0),
       coalesce(sum(resolved_at IS NOT NULL), 0), coalesce(sum(reopened_count > 0), 0),
       sum(CASE WHEN resolution_s IS NOT NULL THEN waiting_s END),
       count(first_response_s), sum(first_response_s), count(resolution_s), sum(resolution_s)
FROM tickets WHERE 1 {opened_at}"""
CUT = """
WITH r AS (SELECT {col} AS v, row_number() OVER (ORDER BY {col}) - 1 AS i
           FROM tickets WHERE {col} IS NOT NULL {opened_at})
SELECT (max(CASE WHEN i = :lo50 THEN v END) + max(CASE WHEN i = :hi50 THEN v END)) / 2.0,
       max(CASE WHEN i = :lo90 THEN v END) + :w90
         * (max(CASE WHEN i = :hi90 THEN v END) - max(CASE WHEN i = :lo90 THEN v END))
FROM r WHERE i IN (:lo50, :hi50, :lo90, :hi90)"""
CUSTOMERS_ALL = """
SELECT count(*), coalesce(sum(n >= 2), 0), sum(revenue)
FROM (SELECT count(*) AS n, sum(total_cents) AS revenue FROM orders GROUP BY customer_id)"""
CUSTOMERS = """
SELECT coalesce(sum(cur >= 1), 0), coalesce(sum(cur >= 2), 0), sum(revenue),
       coalesce(sum(prev >= 1), 0), coalesce(sum(prev >= 1 AND cur = 0), 0)
FROM (SELECT customer_id,
             sum(purchased_at >= :since) AS cur,
             sum(CASE WHEN purchased_at >= :since THEN total_cents END) AS revenue,
             sum(purchased_at < :since) AS prev
      FROM orders WHERE purchased_at >= :start AND purchased_at < :until
      GROUP BY customer_id)"""
NEW_CUSTOMERS = """
SELECT count(DISTINCT o.customer_id) FROM orders o
WHERE o.purchased_at >= ? AND o.purchased_at < ?
  AND NOT EXISTS (SELECT 1 FROM orders e WHERE e.customer_id = o.customer_id
                  AND e.purchased_at < ?)"""


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(FORMAT)


def _cut(con: sqlite3.Connection, column: str, period: str, bounds: dict[str, str], n: int) -> Any:
    if not n:
        return None, None
    tenths = 9 * (n - 1)
    positions = {"lo50": (n - 1) // 2, "hi50": n // 2, "lo90": tenths // 10}
    positions |= {"hi90": (tenths + 9) // 10}
    sql = CUT.format(col=column, opened_at=period.replace("{col}", "opened_at"))
    return con.execute(sql, {**bounds, **positions, "w90": tenths % 10 / 10}).fetchone()


def _times(total: int | None, n: int, cut: Any) -> dict[str, Any]:
    def tenths(value: float | None) -> float | None:
        return None if value is None else ratio(round(value * 10), 10)

    return {"mean": ratio(total, n), "median": tenths(cut[0]), "p90": tenths(cut[1])}


def raw_kpis(
    con: sqlite3.Connection, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    """The ``compute_kpis`` object for ``[since, until)`` (both given, or both None)."""
    bounded = since is not None and until is not None
    period = "AND {col} >= :since AND {col} < :until" if bounded else ""
    bounds = {"since": _text(since), "until": _text(until)} if since and until else {}

    def run(sql: str, column: str) -> Any:
        return con.execute(sql.format(**{column: period.replace("{col}", column)}), bounds)

    found = {row[0]: row[1:] for row in run(SURVEYS, "answered_at")}
    n, promoters, detractors, _, _ = found.get("nps", (0, 0, 0, 0, 0))
    c, _, _, satisfied, total = found.get("csat", (0, 0, 0, 0, 0))
    sent, answered = run(FOLLOWUPS, "sent_at").fetchone()
    opened, active, resolved, reopened, waiting, n_first, first, n_res, res = run(
        TICKETS, "opened_at"
    ).fetchone()
    first_cut = _cut(con, "first_response_s", period, bounds, n_first)
    res_cut = _cut(con, "resolution_s", period, bounds, n_res)
    active_before = churned = 0
    if since is not None and until is not None:
        start = _text(since - (until - since))
        row = con.execute(CUSTOMERS, {**bounds, "start": start}).fetchone()
        buyers, repeat, revenue, active_before, churned = row
        months = (since.strftime("%Y-%m"), (until - timedelta(microseconds=1)).strftime("%Y-%m"))
        spend = con.execute(
            "SELECT sum(amount_cents) FROM marketing_spend WHERE month >= ? AND month <= ?",
            months,
        ).fetchone()[0]
        new = 0
        if spend is not None:
            window = (bounds["since"], bounds["until"], bounds["since"])
            new = con.execute(NEW_CUSTOMERS, window).fetchone()[0]
    else:
        buyers, repeat, revenue = con.execute(CUSTOMERS_ALL).fetchone()
        spend = con.execute("SELECT sum(amount_cents) FROM marketing_spend").fetchone()[0]
        new = buyers
    return {
        "period": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
        "nps": {
            "score": nps_score(promoters, detractors, n),
            "promoters": promoters,
            "passives": n - promoters - detractors,
            "detractors": detractors,
            "responses": n,
        },
        "csat": {
            "mean": ratio(total, c),
            "satisfied_pct": ratio(satisfied, c, 100),
            "responses": c,
        },
        "followups": {
            "sent": sent,
            "answered": answered,
            "response_rate_pct": ratio(answered, sent, 100),
        },
        "tickets": {
            "opened": opened,
            "open": active,
            "resolved": resolved,
            "reopened": reopened,
            "first_response_s": _times(first, n_first, first_cut),
            "resolution_s": _times(res, n_res, res_cut),
            "waiting_s": {"mean": ratio(waiting, n_res)},
        },
        "customers": {
            "with_orders": buyers,
            "repeat_purchase_pct": ratio(repeat, buyers, 100),
            "churn_pct": ratio(churned, active_before, 100) if bounded else None,
            "ltv_cents": cents(revenue, buyers),
            "cac_cents": None if spend is None else cents(spend, new),
        },
    }
