"""The dashboard's charts over real HTTP: tickets by week, theme shares and deliveries on
time, each equal to ``compute_kpis`` (and ``ticket_weeks`` to it week by week), on SQLite
and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import Database
from bot.operators.periods import parse_period
from storage.models import Customer, Order, SurveyResponse, Ticket
from storage.read.kpi import compute_kpis
from storage.read.ticket_weeks import ticket_weeks
from tests.fakes.bot_api import FakeBotApi
from tests.integration.admin_site import OPERATOR, admin_site, client, sign_in

ZONE = ZoneInfo("America/Sao_Paulo")
WEEK = timedelta(days=7)


async def dashboard_rows(db: Database, now: datetime) -> None:
    """Tickets over three weeks (some resolved), themed detractors, orders on time and late."""
    async with db.uow() as uow:
        s = uow.session
        customer = await s.scalar(select(Customer))
        assert customer is not None
        for days, resolved in ((3, True), (3, False), (4, True), (10, True), (17, False)):
            opened = now - timedelta(days=days, hours=2)
            s.add(
                Ticket(
                    customer_id=customer.id,
                    source="complaint",
                    category="damaged",
                    status="resolved" if resolved else "open",
                    opened_at=opened,
                    first_response_at=opened + timedelta(minutes=30),
                    first_response_s=1800,
                    resolved_at=opened + timedelta(hours=1) if resolved else None,
                    resolution_s=3600 if resolved else None,
                )
            )
        themes = ("late_delivery", "late_delivery", "low_quality", None)
        for i, theme in enumerate(themes):
            s.add(
                SurveyResponse(
                    dedup_key=f"dash-{i}",
                    customer_id=customer.id,
                    kind="nps",
                    score=2,
                    theme=theme,
                    source="import",
                    answered_at=now - timedelta(days=2, minutes=i),
                )
            )
        for i, late_days in enumerate((0, 0, 3)):
            due = now - timedelta(days=5)
            s.add(
                Order(
                    external_id=f"dash-{i}",
                    customer_id=customer.id,
                    total_cents=5000,
                    currency="BRL",
                    purchased_at=now - timedelta(days=12),
                    estimated_delivery_at=due,
                    delivered_at=due + timedelta(days=late_days) - timedelta(hours=1),
                    created_at=now,
                    updated_at=now,
                )
            )
        await uow.commit()


async def test_the_dashboard_charts_show_compute_kpis_figures(
    api: FakeBotApi, db: Database
) -> None:
    async with admin_site(api, db) as site, client() as http:
        now = datetime.now(UTC)
        await dashboard_rows(db, now)
        since = (now - timedelta(days=20)).astimezone(ZONE).date().isoformat()
        until = now.astimezone(ZONE).date().isoformat()
        await sign_in(http, site.base, await site.link_for(OPERATOR))
        async with http.get(f"{site.base}/admin/", params={"since": since, "until": until}) as p:
            assert p.status == 200
            html = await p.text()
        period = parse_period(f"{since}..{until}", now, ZONE)
        async with db.reader() as uow:
            s = uow.session
            figures = await compute_kpis(
                s, period.since, period.until, now, default_zone="America/Sao_Paulo"
            )
            weeks = await ticket_weeks(s, period.since, period.until)
            assert sum(w.opened for w in weeks) == figures["tickets"]["opened"] == 5
            assert sum(w.resolved for w in weeks) == figures["tickets"]["resolved"] == 3
            for w in weeks:
                monday = datetime.combine(w.week_start, time(), UTC)
                start, end = max(period.since, monday), min(period.until, monday + WEEK)
                one = await compute_kpis(s, start, end, now)
                assert (w.opened, w.resolved) == (
                    one["tickets"]["opened"],
                    one["tickets"]["resolved"],
                ), w
                shown = re.search(
                    rf'data-week="{w.week_start}".*?data-opened="(\d+)".*?data-resolved="(\d+)"',
                    html,
                )
                assert shown is not None and (int(shown[1]), int(shown[2])) == (
                    w.opened,
                    w.resolved,
                )
        assert len(weeks) >= 3 and "<rect" in html
        detractors = figures["themes"]["detractors"]
        assert set(detractors) == {"late_delivery", "low_quality"}
        for theme, f in detractors.items():
            shown = re.search(rf'data-share="{theme}">([^<]*)<', html)
            assert shown is not None and shown[1] == f"{f['share_pct']:.1f}%"
        delivery = figures["delivery"]
        assert delivery["on_time"] >= 2 and delivery["late"] == 1
        block = html[html.index('id="delivery"') :]
        assert f"{delivery['on_time_pct']:.1f}% ({delivery['on_time']} of " in block
        assert "BRL" in html  # LTV in the store's currency
        # The service levels in business hours come by their link (they are slow to work
        # out); with it, the SLA table of this period and the one before.
        assert 'id="sla"' in html and "sla=1" in html and 'class="card" id="sla"' not in html
        query = {"since": since, "until": until, "sla": "1"}
        async with http.get(f"{site.base}/admin/", params=query) as p:
            assert p.status == 200
            with_sla = await p.text()
        assert 'class="card" id="sla"' in with_sla and "Show the service levels" not in with_sla
