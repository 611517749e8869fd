"""The web admin over real HTTP: sign-in by one-time link, refusals, the chat's actions,
hostile content, and the dashboard's figures against ``postsale kpi --json``.

Through the real server (``start_http_server``), the real bot stack (aiogram polling
``FakeBotApi``) and a real database, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from bot.app import Database
from storage.models import TicketEvent, WebLink
from storage.web_links import create_link
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.integration.admin_site import (
    ADMIN,
    CUSTOMER,
    OPERATOR,
    STRANGER,
    admin_site,
    answers,
    client,
    form_value,
    kpi_json,
    sign_in,
)


async def test_an_operator_signs_in_by_link_once_and_signs_out(
    api: FakeBotApi, db: Database
) -> None:
    async with admin_site(api, db) as site, client() as http:
        token = await site.link_for(OPERATOR)
        assert site.api.texts(str(OPERATOR))[-1].count("http://admin.example/admin/login?") == 1
        # Opening the link (as a chat's preview does) spends nothing: twice is fine.
        async with http.get(f"{site.base}/admin/login", params={"token": token}) as first:
            assert first.status == 200
        async with http.get(f"{site.base}/admin/login", params={"token": token}) as opened:
            page = await opened.text()
        form = {"token": form_value(page, "token"), "nonce": form_value(page, "nonce")}
        async with http.post(
            f"{site.base}/admin/login", data=form, allow_redirects=False
        ) as signed:
            assert signed.status == 303 and signed.headers["Location"] == "/admin/"
            cookie = signed.cookies["postsale_admin"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        assert int(cookie["max-age"]) == 12 * 3600 and cookie["path"] == "/admin"
        assert not cookie["secure"]  # an http base URL
        async with http.get(f"{site.base}/admin/") as home:
            dashboard = await home.text()
        assert home.status == 200 and "NPS" in dashboard and f"{OPERATOR}" in dashboard
        async with http.get(f"{site.base}/admin/tickets") as tickets:
            assert tickets.status == 200
        csrf = form_value(dashboard, "csrf")
        async with http.post(f"{site.base}/admin/logout", data={"csrf": csrf}) as out:
            assert out.status == 200
        async with http.get(f"{site.base}/admin/") as after:
            assert after.status == 403
        async with http.get(f"{site.base}/admin/login", params={"token": token}) as again:
            assert again.status == 403 and "used already" in await again.text()
        async with db.uow() as uow:
            row = await uow.session.scalar(select(WebLink))
        assert row is not None and row.used_at and row.signed_out_at and row.user_id == "900"
        assert token not in row.token_hash  # only the hash is kept


async def test_every_refusal_is_a_403(api: FakeBotApi, db: Database) -> None:
    async with admin_site(api, db) as site, client() as http:
        async with http.get(f"{site.base}/admin/") as anonymous:
            assert anonymous.status == 403 and "/web" in await anonymous.text()
        # A stranger's /web is refused like any operator command: no link.
        await site.stack.deliver(tg.message(STRANGER, "/web"))
        assert "/admin/login" not in "\n".join(site.api.texts(str(STRANGER)))
        async with db.uow() as uow:
            stale = await create_link(
                uow.session, str(OPERATOR), datetime.now(UTC) - timedelta(minutes=11)
            )
            await uow.commit()
        async with http.get(f"{site.base}/admin/login", params={"token": stale}) as expired:
            assert expired.status == 403 and "expired" in await expired.text()
        async with http.get(f"{site.base}/admin/login", params={"token": "made-up"}) as unknown:
            assert unknown.status == 403
        dashboard = await sign_in(http, site.base, await site.link_for(OPERATOR))
        assert "/admin/operators" not in dashboard  # not offered to an operator
        async with http.get(f"{site.base}/admin/operators") as admins_only:
            assert admins_only.status == 403 and "role does not allow" in await admins_only.text()
        number = await site.complaint()
        async with http.post(f"{site.base}/admin/tickets/{number}/resolve") as no_csrf:
            assert no_csrf.status == 403
        forged = {"csrf": form_value(dashboard, "csrf") + "x"}
        async with http.post(f"{site.base}/admin/tickets/{number}/resolve", data=forged) as bad:
            assert bad.status == 403
        assert (await site.ticket(number)).status == "open"
        # The same session id, signed with another secret.
        other = URLSafeSerializer(
            "another-secret-another-secret-000", salt="postsale-admin-session"
        )
        async with client() as intruder:
            intruder.cookie_jar.update_cookies({"postsale_admin": other.dumps({"s": 1})})
            async with intruder.get(f"{site.base}/admin/") as signed_otherwise:
                assert signed_otherwise.status == 403


async def test_an_admin_sees_the_operators_page(api: FakeBotApi, db: Database) -> None:
    async with admin_site(api, db) as site, client() as http:
        dashboard = await sign_in(http, site.base, await site.link_for(ADMIN))
        assert "/admin/operators" in dashboard
        async with http.get(f"{site.base}/admin/operators") as page:
            assert page.status == 200
            text = await page.text()
        assert str(OPERATOR) in text and str(ADMIN) in text


async def test_reply_and_resolve_go_as_the_chat_commands_do(api: FakeBotApi, db: Database) -> None:
    async with admin_site(api, db) as site, client() as http:
        number = await site.complaint()
        await sign_in(http, site.base, await site.link_for(OPERATOR))
        async with http.get(f"{site.base}/admin/tickets/{number}") as page:
            csrf = form_value(await page.text(), "csrf")
        reply = {"csrf": csrf, "text": "A new mug leaves today."}
        async with http.post(f"{site.base}/admin/tickets/{number}/reply", data=reply) as done:
            assert done.status == 200 and "Sent to the customer" in await done.text()
        await site.stack.flush()
        assert any("A new mug leaves today." in t for t in site.api.texts(str(CUSTOMER)))
        async with http.post(f"{site.base}/admin/tickets/{number}/resolve", data=reply) as done:
            assert done.status == 200 and "resolved after" in await done.text()
        await site.stack.flush()
        ticket = await site.ticket(number)
        assert ticket.status == "resolved" and ticket.first_response_at is not None
        async with db.uow() as uow:
            events = list(
                await uow.session.scalars(
                    select(TicketEvent).where(TicketEvent.ticket_id == number)
                )
            )
        by_kind = {e.kind: e for e in events}
        assert by_kind["first_response"].actor == f"op:{OPERATOR}"
        assert by_kind["resolved"].actor == f"op:{OPERATOR}"
        assert ticket.first_response_at == by_kind["first_response"].at


async def test_hostile_customer_text_is_shown_as_text(api: FakeBotApi, db: Database) -> None:
    hostile = (
        '<script>alert(1)</script> <img src=x onerror="alert(2)"> '
        '<a href="javascript:alert(3)">click</a>'
    )
    async with admin_site(api, db) as site, client() as http:
        number = await site.complaint(hostile)
        await sign_in(http, site.base, await site.link_for(OPERATOR))
        async with http.get(f"{site.base}/admin/tickets/{number}") as page:
            html = await page.text()
            policy = page.headers["Content-Security-Policy"]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script" not in html and "<img" not in html
        assert 'href="javascript:' not in html
        assert "default-src 'none'" in policy and "script-src" not in policy


async def test_the_dashboard_shows_what_kpi_json_says(
    api: FakeBotApi, db: Database, db_url: str
) -> None:
    async with admin_site(api, db) as site, client() as http:
        now = datetime.now(UTC)
        nps = [("nps", s) for s in (10, 9, 9, 7, 3, 0, 10)]
        await answers(db, [*nps, ("csat", 5), ("csat", 2)], now - timedelta(days=3))
        await answers(db, [("nps", 2), ("nps", 10)], now - timedelta(days=20))
        since = (now - timedelta(days=8)).date().isoformat()
        until = (now - timedelta(days=1)).date().isoformat()
        await sign_in(http, site.base, await site.link_for(OPERATOR))
        query = {"since": since, "until": until}
        async with http.get(f"{site.base}/admin/", params=query) as page:
            html = await page.text()
        figures = json.loads(kpi_json(db_url, since, until))
        shown = re.search(r'data-key="nps.score">([^<]*)<', html)
        assert shown is not None and figures["nps"]["responses"] == 7
        assert shown[1] == f"{figures['nps']['score']:.1f}"
        csat = re.search(r'data-key="csat.mean">([^<]*)<', html)
        assert csat is not None and csat[1] == f"{figures['csat']['mean']:.2f}"
        assert "<svg" in html and "<polyline" in html


async def test_the_admin_is_off_without_web_secret(api: FakeBotApi, db: Database) -> None:
    async with admin_site(api, db, web_secret="", http_server="on") as site, client() as http:
        async with http.get(f"{site.base}/admin/") as page:
            assert page.status == 503 and "WEB_SECRET" in await page.text()
        await site.stack.deliver(tg.message(OPERATOR, "/web"))
        assert "WEB_SECRET" in site.api.texts(str(OPERATOR))[-1]
