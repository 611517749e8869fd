"""An answer's detail in the web admin, and its theme corrected there (issue 18).

Over real HTTP (``admin_site``): the customer's page links each answer to its detail;
the detail's form, with the session's CSRF token, stores the operator's theme as a
correction, which ``themes train --with-corrections`` (``corrected_texts``) reads and
``retag`` leaves alone. SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.app import Database
from storage.models import Customer, SurveyResponse, ThemeCorrection
from storage.themes import corrected_texts, retag
from tests.fakes.bot_api import FakeBotApi
from tests.integration.admin_site import ADMIN, OPERATOR, admin_site, client, form_value, sign_in

REASON = "The box came open and half wet"


async def an_answer(db: Database) -> tuple[int, int]:
    """A detractor's NPS answer the model tagged ``other_order``: (customer id, answer id)."""
    async with db.uow() as uow:
        customer = await uow.session.scalar(select(Customer))
        assert customer is not None
        answer = SurveyResponse(
            dedup_key="web-answer-theme",
            customer_id=customer.id,
            kind="nps",
            score=3,
            reason=REASON,
            source="import",
            answered_at=datetime.now(UTC),
            theme="other_order",
            theme_source="model",
        )
        uow.session.add(answer)
        await uow.commit()
        return customer.id, answer.id


async def stored(db: Database, number: int) -> SurveyResponse:
    async with db.uow() as uow:
        found = await uow.session.get(SurveyResponse, number)
    assert found is not None
    return found


async def test_an_admin_corrects_an_answers_theme_from_its_detail(
    api: FakeBotApi, db: Database
) -> None:
    async with admin_site(api, db) as site, client() as http:
        customer, number = await an_answer(db)
        dashboard = await sign_in(http, site.base, await site.link_for(ADMIN))
        csrf = form_value(dashboard, "csrf")
        async with http.get(f"{site.base}/admin/customers/{customer}") as page:
            assert f'href="/admin/answers/{number}"' in await page.text()
        async with http.get(f"{site.base}/admin/answers/{number}") as page:
            detail = await page.text()
        assert page.status == 200 and REASON in detail and "Other order issue" in detail
        url = f"{site.base}/admin/answers/{number}/theme"

        async with http.post(url, data={"theme": "low_quality"}) as no_csrf:
            assert no_csrf.status == 403
        async with http.post(url, data={"csrf": csrf, "theme": "weather"}) as unknown:
            said = await unknown.text()
        assert unknown.url.path == f"/admin/answers/{number}"
        assert "There is no theme &#39;weather&#39;" in said
        assert (await stored(db, number)).theme_source == "model"  # nothing changed

        async with http.post(url, data={"csrf": csrf, "theme": "other_delivery"}) as done:
            after = await done.text()
        assert "Answer #1 is now about: Other delivery issue (before: Other order issue)." in (
            after.replace(f"#{number}", "#1")
        )
        assert "set by an operator" in after and "Other order issue → Other delivery issue" in after
        answer = await stored(db, number)
        assert (answer.theme, answer.theme_source) == ("other_delivery", "operator")
        async with db.uow() as uow:
            row = await uow.session.scalar(select(ThemeCorrection))
            pairs = [pair async for pair in corrected_texts(uow.session)]
        assert row is not None and row.response_id == number and row.actor == f"op:{ADMIN}"
        assert (row.old_theme, row.new_theme) == ("other_order", "other_delivery")
        assert pairs == [(REASON, "other_delivery")]  # what --with-corrections trains on

        # A later re-tag keeps the operator's theme.
        counts, kept = await retag(db.sessions, lambda texts: ["satisfied" for _ in texts])
        assert kept == 1 and (await stored(db, number)).theme == "other_delivery"

        async with http.get(f"{site.base}/admin/answers/{number + 1000}") as missing:
            assert missing.status == 404


async def test_an_operator_may_not_open_an_answers_detail(api: FakeBotApi, db: Database) -> None:
    async with admin_site(api, db) as site, client() as http:
        _, number = await an_answer(db)
        await sign_in(http, site.base, await site.link_for(OPERATOR))
        async with http.get(f"{site.base}/admin/answers/{number}") as page:
            # Like the customer's page it is linked from: the reason is the customer's own.
            assert page.status == 403 and "role does not allow" in await page.text()
