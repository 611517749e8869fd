"""The KPI engine on hand-built data whose answers are worked out here (SQLite and PostgreSQL).

The period is March 2026 (UTC): [2026-03-01, 2026-04-01). The previous period of equal
length is [2026-01-29, 2026-03-01).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import Database
from storage.models import Customer, FollowUp, MarketingSpend, Order, SurveyResponse, Ticket
from storage.read.kpi import compute_kpis, weekly_scores

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 4, 1, tzinfo=UTC)
NOW = datetime(2026, 4, 10, tzinfo=UTC)
_keys = itertools.count()


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


async def build(db: Database) -> None:
    """The data set every test below reads (see the figures in each test)."""
    async with db.uow() as uow:
        s = uow.session
        people = {}
        for name in "ABCDEFZ":
            people[name] = Customer(external_id=name, created_at=at(1, 1))
        people["Z"].anonymised_at = at(3, 30)  # forgotten: the answers still count
        s.add_all(people.values())
        await s.flush()
        orders = [  # (customer, purchased at, total in cents)
            ("A", at(2, 10), 9_000),
            ("A", at(3, 5), 10_000),
            ("A", at(3, 20), 5_000),
            ("B", at(3, 10), 3_000),
            ("C", at(2, 15), 7_000),
            ("D", at(1, 1), 1_000),
            ("D", at(3, 15), 2_000),
            ("E", at(2, 20), 4_000),
            ("F", UNTIL, 8_000),  # exactly at until: outside the period
        ]
        order_rows = []
        for n, (who, when, cents) in enumerate(orders):
            order = Order(
                external_id=f"o{n}",
                customer_id=people[who].id,
                total_cents=cents,
                currency="BRL",
                purchased_at=when,
                delivered_at=when + timedelta(days=3),
                created_at=when,
                updated_at=when,
            )
            order_rows.append(order)
        s.add_all(order_rows)
        await s.flush()

        def answer(kind: str, score: int, when: datetime, who: str = "A") -> SurveyResponse:
            return SurveyResponse(
                dedup_key=f"k{next(_keys)}",
                customer_id=people[who].id,
                kind=kind,
                score=score,
                source="import",
                answered_at=when,
            )

        # NPS in March: 5 promoters (one exactly at since), 3 passives, 2 detractors.
        nps = [10, 10, 9, 9, 9, 8, 7, 7, 6, 0]
        s.add(answer("nps", nps[0], SINCE, "Z"))
        s.add_all(answer("nps", score, at(3, 2 + n)) for n, score in enumerate(nps[1:]))
        s.add(answer("nps", 0, UNTIL))  # exactly at until: outside
        s.add(answer("nps", 0, SINCE - timedelta(microseconds=1)))  # just before: outside
        # CSAT in March: 5, 4, 4, 2, 1, 3 -> mean 19/6 = 3.17, 3 of 6 satisfied.
        s.add_all(
            answer("csat", score, at(3, 10 + n)) for n, score in enumerate([5, 4, 4, 2, 1, 3])
        )
        s.add(answer("csat", 1, at(2, 27)))

        # Follow-ups sent in March: 4, of which 3 answered.
        followups = [
            (at(3, 3), at(3, 4)),
            (at(3, 4), at(3, 4)),
            (at(3, 5), at(4, 2)),  # answered after the period: still answered
            (at(3, 6), None),
            (at(2, 20), at(3, 2)),  # sent before the period
            (None, None),  # not sent yet
        ]
        for order, (sent, answered) in zip(order_rows, followups, strict=False):
            s.add(
                FollowUp(
                    order_id=order.id,
                    customer_id=order.customer_id,
                    status="answered" if answered else ("sent" if sent else "pending"),
                    due_at=order.purchased_at,
                    sent_at=sent,
                    answered_at=answered,
                )
            )

        # Tickets opened in March: first response 10..50 s, resolution 100/200/300/1000 s.
        tickets: list[dict[str, Any]] = [
            {"status": "closed", "first_response_s": 10, "resolution_s": 100, "waiting_s": 5}
            | {"rating": 5},
            {"status": "resolved", "first_response_s": 20, "resolution_s": 200},
            {"status": "closed", "first_response_s": 30, "resolution_s": 300, "waiting_s": 15}
            | {"rating": 4},
            {"status": "closed", "first_response_s": 40, "resolution_s": 1000, "rating": 2},
            {"status": "open", "reopened_count": 1},
            {"status": "waiting_customer", "first_response_s": 50, "waiting_s": 7},
        ]
        for n, fields in enumerate(tickets):
            opened = at(3, 10 + n)
            resolved = fields.get("resolution_s")
            s.add(
                Ticket(
                    customer_id=people["A"].id,
                    source="complaint",
                    category="other",
                    opened_at=opened,
                    resolved_at=opened + timedelta(seconds=resolved) if resolved else None,
                    **{"waiting_s": 0, "reopened_count": 0, **fields},
                )
            )
        s.add(
            Ticket(
                customer_id=people["A"].id,
                source="complaint",
                category="other",
                status="closed",
                opened_at=at(2, 1),
                first_response_s=99_999,
                resolution_s=99_999,
                resolved_at=at(2, 3),
                waiting_s=0,
                reopened_count=3,
                rating=1,  # opened in February: not this period's
            )
        )
        for month, channel, cents in [
            ("2026-02", "ads", 10_000),
            ("2026-03", "ads", 30_000),
            ("2026-03", "social", 15_000),
            ("2026-04", "ads", 50_000),
        ]:
            year, mon = (int(part) for part in month.split("-"))
            start = datetime(year, mon, 1, tzinfo=UTC)
            s.add(
                MarketingSpend(
                    month=month,
                    month_start=start,
                    channel=channel,
                    amount_cents=cents,
                    currency="BRL",
                )
            )
        await uow.commit()


async def kpis(db: Database, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    async with db.uow() as uow:
        return await compute_kpis(uow.session, since, until, NOW)


async def test_nps_is_promoters_minus_detractors_with_since_inclusive_and_until_exclusive(
    db: Database,
) -> None:
    await build(db)
    result = await kpis(db, SINCE, UNTIL)
    assert result["period"] == {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
    assert result["nps"] == {
        "score": 30.0,
        "promoters": 5,
        "passives": 3,
        "detractors": 2,
        "responses": 10,
    }


async def test_csat_is_the_mean_and_the_share_of_fours_and_fives(db: Database) -> None:
    await build(db)
    result = await kpis(db, SINCE, UNTIL)
    assert result["csat"] == {"mean": 3.2, "satisfied_pct": 50.0, "responses": 6}


async def test_response_rate_counts_followups_sent_in_the_period(db: Database) -> None:
    await build(db)
    result = await kpis(db, SINCE, UNTIL)
    assert result["followups"] == {"sent": 4, "answered": 3, "response_rate_pct": 75.0}


async def test_ticket_times_have_mean_median_and_interpolated_p90(db: Database) -> None:
    await build(db)
    tickets = (await kpis(db, SINCE, UNTIL))["tickets"]
    assert tickets["opened"] == 6
    assert tickets["open"] == 2
    assert tickets["resolved"] == 4
    assert tickets["reopened"] == 1
    # 10, 20, 30, 40, 50: p90 at rank 0.9 * 4 = 3.6 -> 40 + 0.6 * 10
    assert tickets["first_response_s"] == {"mean": 30.0, "median": 30.0, "p90": 46.0}
    # 100, 200, 300, 1000: median (200 + 300) / 2; p90 at rank 2.7 -> 300 + 0.7 * 700
    assert tickets["resolution_s"] == {"mean": 400.0, "median": 250.0, "p90": 790.0}
    assert tickets["waiting_s"] == {"mean": 5.0}  # (5 + 0 + 15 + 0) / 4 resolved


async def test_ticket_satisfaction_is_the_mean_rating_of_the_periods_rated_tickets(
    db: Database,
) -> None:
    await build(db)
    assert (await kpis(db, SINCE, UNTIL))["tickets"]["satisfaction"] == {
        "mean": 3.7,  # (5 + 4 + 2) / 3; the unrated tickets are left out
        "responses": 3,
    }
    empty = await kpis(db, datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))
    assert empty["tickets"]["satisfaction"] == {"mean": None, "responses": 0}


async def test_customer_figures_repeat_churn_ltv_and_cac(db: Database) -> None:
    await build(db)
    customers = (await kpis(db, SINCE, UNTIL))["customers"]
    assert customers == {
        "with_orders": 3,  # A, B, D (F's order is exactly at until)
        "repeat_purchase_pct": 33.3,  # A
        "churn_pct": 66.7,  # C and E of A, C, E (D bought in January only)
        "ltv_cents": 6667,  # (150.00 + 30.00 + 20.00) / 3
        "cac_cents": 45_000,  # March spend 300.00 + 150.00, one new customer (B)
    }


async def test_an_empty_period_gives_nulls_not_zeros(db: Database) -> None:
    await build(db)
    result = await kpis(db, datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))
    assert result["nps"]["score"] is None and result["nps"]["responses"] == 0
    assert result["csat"] == {"mean": None, "satisfied_pct": None, "responses": 0}
    assert result["followups"]["response_rate_pct"] is None
    nothing = {"mean": None, "median": None, "p90": None}
    assert result["tickets"]["first_response_s"] == nothing
    assert result["tickets"]["resolution_s"] == nothing
    assert result["customers"] == {
        "with_orders": 0,
        "repeat_purchase_pct": None,
        "churn_pct": None,
        "ltv_cents": None,
        "cac_cents": None,
    }


async def test_all_time_has_no_churn_and_null_bounds(db: Database) -> None:
    await build(db)
    result = await kpis(db, None, None)
    assert result["period"] == {"since": None, "until": None}
    assert result["nps"]["responses"] == 12
    assert result["customers"]["with_orders"] == 6
    assert result["customers"]["churn_pct"] is None
    assert result["customers"]["cac_cents"] == 17_500  # all spend 1,050.00 / all 6 customers
    assert result["tickets"]["opened"] == 7


async def test_without_until_the_period_runs_to_now(db: Database) -> None:
    await build(db)
    result = await kpis(db, UNTIL, None)
    assert result["period"]["until"] == NOW.isoformat()
    assert result["nps"]["responses"] == 1
    assert result["customers"]["with_orders"] == 1  # F
    assert result["customers"]["cac_cents"] == 50_000  # April's spend, F is new


async def test_a_period_in_a_local_time_zone_reads_months_there(db: Database) -> None:
    await build(db)
    from zoneinfo import ZoneInfo

    sp = ZoneInfo("America/Sao_Paulo")
    result = await kpis(db, datetime(2026, 3, 1, tzinfo=sp), datetime(2026, 4, 1, tzinfo=sp))
    assert result["period"]["since"] == "2026-03-01T00:00:00-03:00"
    # March is still the only month; F's order (April 1st 00:00 UTC) is now March 31st
    # there, so B and F are new: 450.00 / 2.
    assert result["customers"]["cac_cents"] == 22_500


async def test_weekly_scores_equal_the_engine_for_each_week(db: Database) -> None:
    await build(db)
    async with db.uow() as uow:
        weeks = await weekly_scores(uow.session, SINCE, UNTIL)
    assert [w.week_start.isoformat() for w in weeks] == [
        "2026-02-23",
        "2026-03-02",
        "2026-03-09",
    ]
    assert all(w.week_start.weekday() == 0 for w in weeks)
    assert sum(w.nps_responses for w in weeks) == 10
    assert sum(w.csat_responses for w in weeks) == 6
    for week in weeks:
        start = datetime.combine(week.week_start, datetime.min.time(), UTC)
        figures = await kpis(db, max(start, SINCE), min(start + timedelta(days=7), UNTIL))
        assert (week.nps, week.nps_responses) == (
            figures["nps"]["score"],
            figures["nps"]["responses"],
        )
        assert (week.csat, week.csat_responses) == (
            figures["csat"]["mean"],
            figures["csat"]["responses"],
        )


async def test_weekly_scores_list_empty_weeks_between_answers(db: Database) -> None:
    await build(db)
    async with db.uow() as uow:
        weeks = await weekly_scores(uow.session, None, None)
        nothing = await weekly_scores(uow.session, UNTIL + timedelta(days=1), NOW)
    assert nothing == []
    assert weeks[0].week_start.isoformat() == "2026-02-23"
    assert weeks[-1].week_start.isoformat() == "2026-03-30"  # the answer at until, a Wednesday
    empty = [w for w in weeks if w.nps_responses == 0 and w.csat_responses == 0]
    assert empty and all(w.nps is None and w.csat is None for w in empty)


@pytest.mark.parametrize("values", [[7], [1, 2], [5, 1, 4, 2, 3], list(range(1, 12))])
async def test_percentiles_agree_with_linear_interpolation(db: Database, values: list[int]) -> None:
    async with db.uow() as uow:
        for n, value in enumerate(values):
            uow.session.add(
                Ticket(
                    source="complaint",
                    category="other",
                    status="resolved",
                    opened_at=at(3, 1 + n),
                    resolution_s=value,
                    waiting_s=0,
                    reopened_count=0,
                )
            )
        await uow.commit()
    figures = (await kpis(db, SINCE, UNTIL))["tickets"]["resolution_s"]
    ordered = sorted(values)

    def cont(p: float) -> float:
        rank = p * (len(ordered) - 1)
        low = int(rank)
        high = min(low + 1, len(ordered) - 1)
        return round(ordered[low] + (rank - low) * (ordered[high] - ordered[low]), 1)

    assert figures["median"] == cont(0.5)
    assert figures["p90"] == cont(0.9)
