"""The web admin in a real browser: Debian's Chromium driven by Playwright.

Chromium is ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs
it); Playwright's own browser download is never used. Without it these tests skip,
saying so. Screenshots at 1280 and 360 px wide are saved under ``test-artifacts/``.
The server, the bot and the database are the real ones of ``admin_site``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.app import Database
from storage.models import Customer
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.integration.admin_site import ADMIN, CUSTOMER, OPERATOR, admin_site, answers, kpi_json
from tests.integration.test_web_admin_dashboard import dashboard_rows

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web-admin"
WIDTHS = {"wide": (1280, 900), "narrow": (360, 740)}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or not os.access(CHROMIUM, os.X_OK),
    reason="no Chromium at /usr/bin/chromium (apt-get install -y chromium; .ci/run does)",
)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    playwright = pytest.importorskip("playwright.async_api")
    async with playwright.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


async def shoot(browser: Any, url: str, cookies: list[dict[str, Any]], name: str) -> None:
    """The page at both widths; at 360 px nothing may stick out sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width_name, (width, height) in WIDTHS.items():
        context = await browser.new_context(viewport={"width": width, "height": height})
        await context.add_cookies(cookies)
        page = await context.new_page()
        await page.goto(url)
        await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        overflow = await page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"{name} is {overflow} px wide at {width_name} {width} px"
        await context.close()


async def signed_in_page(browser: Any, site: Any, user: int, width: int = 1280) -> Any:
    """A browser tab signed in as ``user`` by opening the link /web gave them."""
    token = await site.link_for(user)
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    await page.goto(f"{site.base}/admin/login?token={token}")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{site.base}/admin/")
    return page


async def test_an_operator_answers_and_resolves_a_ticket_in_the_browser(
    api: FakeBotApi, sqlite_db: Database, browser: Any
) -> None:
    db = sqlite_db
    async with admin_site(api, db) as site:
        number = await site.complaint("<script>alert(1)</script> the lid is broken")
        page = await signed_in_page(browser, site, OPERATOR)
        assert await page.get_by_role("link", name="Operators").count() == 0
        await page.get_by_role("link", name="Tickets").first.click()
        await page.get_by_role("link", name=f"#{number}").click()
        assert "<script>alert(1)</script>" in await page.locator(".msg").first.inner_text()
        await page.get_by_label("Answer the customer").fill("A new lid leaves today.")
        await page.get_by_role("button", name="Send the answer").click()
        await page.get_by_role("status").wait_for()
        assert "Sent to the customer" in await page.get_by_role("status").inner_text()
        await site.stack.flush()
        assert any("A new lid leaves today." in t for t in site.api.texts(str(CUSTOMER)))
        await page.get_by_role("button", name="Resolve").click()
        await page.get_by_role("button", name="Reopen").wait_for()
        assert (await site.ticket(number)).status == "resolved"
        cookies = await page.context.cookies()
        await shoot(browser, f"{site.base}/admin/tickets/{number}", cookies, "ticket")
        await shoot(browser, f"{site.base}/admin/tickets?status=all", cookies, "tickets")
        await page.get_by_role("button", name="Sign out").click()
        await page.get_by_role("heading", name="Signed out").wait_for()
        answer = await page.goto(f"{site.base}/admin/tickets")
        assert answer is not None and answer.status == 403


async def test_the_dashboard_in_the_browser_shows_kpi_json_s_nps(
    api: FakeBotApi, sqlite_db: Database, browser: Any
) -> None:
    db = sqlite_db
    db_url = db.engine.url.render_as_string(hide_password=False)
    async with admin_site(api, db) as site:
        now = datetime.now(UTC)
        await answers(db, [("nps", s) for s in (10, 10, 9, 8, 6, 2)], now - timedelta(days=2))
        await answers(db, [("csat", 4), ("csat", 5), ("csat", 1)], now - timedelta(days=9))
        await dashboard_rows(db, now)  # tickets, themes and deliveries: every chart drawn
        since = (now - timedelta(days=14)).date().isoformat()
        until = now.date().isoformat()
        page = await signed_in_page(browser, site, OPERATOR)
        await page.get_by_label("From").fill(since)
        await page.get_by_label("To (inclusive)").fill(until)
        await page.get_by_role("button", name="Show").click()
        await page.wait_for_url("**/admin/?since=*")
        shown = await page.locator('td[data-key="nps.score"]').inner_text()
        figures = json.loads(kpi_json(db_url, since, until))
        assert figures["nps"]["responses"] == 6 + 4  # and dashboard_rows' four detractors
        assert shown == f"{figures['nps']['score']:.1f}"
        await page.get_by_text("NPS", exact=True).first.click()  # its definition, one click
        assert await page.get_by_text("% promoters (9-10)").first.is_visible()
        url = f"{site.base}/admin/?since={since}&until={until}"
        await shoot(browser, url, await page.context.cookies(), "dashboard")


async def test_an_operator_is_refused_an_admin_page_and_an_admin_is_not(
    api: FakeBotApi, sqlite_db: Database, browser: Any
) -> None:
    async with admin_site(api, sqlite_db) as site:
        page = await signed_in_page(browser, site, OPERATOR, width=360)
        answer = await page.goto(f"{site.base}/admin/operators")
        assert answer is not None and answer.status == 403
        assert await page.get_by_role("heading", name="Not allowed").is_visible()
        admin = await signed_in_page(browser, site, ADMIN)
        await admin.get_by_role("link", name="Operators").click()
        assert await admin.get_by_role("cell", name=str(OPERATOR)).is_visible()


async def test_an_admin_searches_a_phone_and_reads_the_transcript(
    api: FakeBotApi, sqlite_db: Database, browser: Any
) -> None:
    async with admin_site(api, sqlite_db) as site:
        await site.stack.deliver(tg.message(CUSTOMER, "/problem"))
        await site.stack.flush()
        menu = site.api.last_message(str(CUSTOMER))
        await site.stack.deliver(tg.press(menu, "cat:damaged"))
        await site.stack.deliver(tg.message(CUSTOMER, "<b>The lid</b> is cracked"))
        await site.stack.flush()
        async with sqlite_db.uow() as uow:
            await uow.session.execute(update(Customer).values(phone="+5511987654321"))
            await uow.commit()
        page = await signed_in_page(browser, site, ADMIN)
        await page.get_by_role("link", name="Conversations").click()
        await page.get_by_label("Phone").fill("+55 11 98765-4321")
        await page.get_by_role("button", name="Search").click()
        await page.wait_for_url("**/admin/conversations?*")
        hit = page.get_by_role("cell", name="<b>The lid</b> is cracked")
        assert await hit.is_visible()  # as text, not as markup
        await page.locator("table a").first.click()
        await page.wait_for_url("**/admin/conversations/*")
        assert await page.get_by_text("pressed: Damaged or defective").is_visible()
        shown = page.locator(".buttons span")
        labels = await shown.all_inner_texts()
        assert "Damaged or defective" in labels and not any(":" in x for x in labels)
        url = page.url.split("#")[0]
        await shoot(browser, url, await page.context.cookies(), "transcript")
        search = f"{site.base}/admin/conversations?phone=%2B5511987654321"
        await shoot(browser, search, await page.context.cookies(), "conversations")
