"""The web admin's conversations and customers over real HTTP, on SQLite and PostgreSQL:
the search (finds, and does not find), the transcript, the streamed export of a search,
the refusals for operators, and the data-rights actions behind their confirmation.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.app import Database
from storage.models import ChannelIdentity, Conversation, Customer, Message, WebAction
from storage.read.transcripts import FIELDS
from tests.builders import customer_with_delivered_order
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.integration.admin_site import (
    ADMIN,
    CUSTOMER,
    OPERATOR,
    Site,
    admin_site,
    client,
    form_value,
    sign_in,
)

PHONE = "+5511987654321"
HOSTILE = '<script>alert(1)</script> "quoted", =HYPERLINK("x")\nsecond line; teapot'


async def _people(site: Site, db: Database, complaint: str = "The mug arrived broken") -> int:
    """Ana (c-1, with a phone) complains in the chat, pressing the menu's button on the
    message the bot sent; Bea (c-2) said other things."""
    await site.stack.deliver(tg.message(CUSTOMER, "/problem"))
    await site.stack.flush()
    await site.stack.deliver(tg.press(site.api.last_message(str(CUSTOMER)), "cat:damaged"))
    await site.stack.deliver(tg.message(CUSTOMER, complaint))
    await site.stack.flush()
    now = datetime.now(UTC)
    other, _, _ = await customer_with_delivered_order(db, "c-2", chat_id="200", now=now)
    async with db.uow() as uow:
        named = update(Customer).where(Customer.external_id == "c-1").values(phone=PHONE)
        await uow.session.execute(named)
        await uow.session.execute(update(Customer).where(Customer.id == other).values(name="Bea"))
        for i, text in enumerate(("My teapot never came", "Where is the mug box?")):
            uow.session.add(
                Message(
                    customer_id=other,
                    channel="telegram",
                    chat_id="200",
                    direction="in",
                    flow="idle",
                    text=text,
                    at=now - timedelta(minutes=5 - i),
                )
            )
        await uow.commit()
        ana = await uow.session.scalar(select(Customer.id).where(Customer.external_id == "c-1"))
    assert ana is not None
    return ana


async def _get(http: object, url: str, **params: str) -> tuple[int, str]:
    async with http.get(url, params=params) as page:  # type: ignore[attr-defined]
        return page.status, await page.text()


async def test_the_search_finds_and_does_not_find(api: FakeBotApi, db: Database) -> None:
    async with admin_site(api, db) as site, client() as http:
        await _people(site, db)
        await sign_in(http, site.base, await site.link_for(ADMIN))
        search = f"{site.base}/admin/conversations"
        today = datetime.now(UTC).date()
        finds = [
            {"phone": "+55 (11) 98765-4321"},
            {"customer": "c-1"},
            {"customer": "ana"},
            {"order": "c-1-o1"},
            {"words": "MUG broken"},
            {"words": "broken", "flow": "complaint"},
            {"words": "mug", "since": (today - timedelta(days=1)).isoformat()},
        ]
        for query in finds:
            status, page = await _get(http, search, **query)
            assert status == 200 and "The mug arrived broken" in page, query
            assert "My teapot never came" not in page, query
        misses = [
            {"phone": "+5511900000000"},
            {"phone": "not a phone"},
            {"customer": "c-9"},
            {"order": "c-2-o1", "words": "broken"},
            {"words": "broken teapot"},
            {"words": "mug", "flow": "survey"},
            {"words": "mug", "since": (today + timedelta(days=2)).isoformat()},
        ]
        for query in misses:
            status, page = await _get(http, search, **query)
            assert status == 200 and "The mug arrived broken" not in page, query
            assert "No messages match." in page, query
        status, page = await _get(http, search, words="mug")  # both customers' lines
        assert "The mug arrived broken" in page and "Where is the mug box?" in page


async def test_the_transcript_shows_button_labels_and_deliveries(
    api: FakeBotApi, db: Database
) -> None:
    async with admin_site(api, db) as site, client() as http:
        await _people(site, db)
        await sign_in(http, site.base, await site.link_for(ADMIN))
        async with db.uow() as uow:
            conv = await uow.session.scalar(
                select(Conversation).where(Conversation.chat_id == "100")
            )
        assert conv is not None
        status, page = await _get(http, f"{site.base}/admin/conversations/{conv.id}")
        assert status == 200
        assert "Damaged or defective" in page  # the menu's label, not "cat:damaged"
        assert "pressed: Damaged or defective" in page
        assert "cat:damaged" not in page
        assert 'class="delivery">sent<' in page  # the outbox row that carried each line
        status, _ = await _get(http, f"{site.base}/admin/conversations/999999")
        assert status == 404


async def test_an_operator_is_refused_conversations_and_customers(
    api: FakeBotApi, db: Database
) -> None:
    async with admin_site(api, db) as site, client() as http:
        ana = await _people(site, db)
        dashboard = await sign_in(http, site.base, await site.link_for(OPERATOR))
        assert "/admin/conversations" not in dashboard and "/admin/customers" not in dashboard
        for path in (
            "/admin/conversations?phone=%2B5511987654321",
            "/admin/conversations/1",
            "/admin/conversations/export?format=csv",
            "/admin/customers?q=c-1",
            f"/admin/customers/{ana}",
            f"/admin/customers/{ana}/forget",
            f"/admin/customers/{ana}/export",
        ):
            status, page = await _get(http, site.base + path)
            assert status == 403 and "role does not allow" in page, path
        csrf = form_value(dashboard, "csrf")
        async with http.post(f"{site.base}/admin/customers/{ana}/forget", data={"csrf": csrf}) as r:
            assert r.status == 403
        async with db.uow() as uow:
            assert (await uow.session.get(Customer, ana)).name == "Ana"  # type: ignore[union-attr]


async def _messages_of(db: Database, customer: int) -> list[Message]:
    async with db.uow() as uow:
        return list(
            await uow.session.scalars(
                select(Message).where(Message.customer_id == customer).order_by(Message.id)
            )
        )


async def test_the_export_streams_the_search_s_rows_as_csv_and_jsonl(
    api: FakeBotApi, db: Database
) -> None:
    async with admin_site(api, db) as site, client() as http:
        ana = await _people(site, db, complaint=HOSTILE)
        await sign_in(http, site.base, await site.link_for(ADMIN))
        expected = await _messages_of(db, ana)
        assert len(expected) >= 3
        url = f"{site.base}/admin/conversations/export"
        async with http.get(url, params={"phone": PHONE, "format": "csv"}) as got:
            assert got.status == 200 and got.headers["Content-Type"].startswith("text/csv")
            assert "attachment" in got.headers["Content-Disposition"]
            assert got.headers.get("Transfer-Encoding") == "chunked"  # streamed, no length
            rows = list(csv.DictReader(io.StringIO(await got.text(), newline="")))
        assert [int(r["id"]) for r in rows] == [m.id for m in expected]
        assert {r["customer"] for r in rows} == {"c-1"}
        assert HOSTILE in [r["text"] for r in rows]  # kept as data, byte for byte
        async with http.get(url, params={"words": "teapot", "format": "jsonl"}) as got:
            assert got.status == 200 and got.headers.get("Transfer-Encoding") == "chunked"
            lines = [json.loads(x) for x in (await got.text()).splitlines()]
        assert {x["text"] for x in lines} == {HOSTILE, "My teapot never came"}
        async with http.get(url, params={"phone": "+5511900000000", "format": "jsonl"}) as got:
            assert got.status == 200 and await got.text() == ""
        status, page = await _get(http, f"{site.base}/admin/conversations", phone=PHONE)
        assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_forget_asks_first_then_erases_what_forget_erases(
    api: FakeBotApi, db: Database
) -> None:
    async with admin_site(api, db) as site, client() as http:
        ana = await _people(site, db)
        await sign_in(http, site.base, await site.link_for(ADMIN))
        status, page = await _get(http, f"{site.base}/admin/customers/{ana}")
        assert status == 200 and "damaged or defective" in page.lower() and "c-1-o1" in page
        status, ask = await _get(http, f"{site.base}/admin/customers/{ana}/forget")
        assert status == 200 and 'method="post"' in ask
        async with db.uow() as uow:
            assert (await uow.session.get(Customer, ana)).name == "Ana"  # type: ignore[union-attr]
        forget = f"{site.base}/admin/customers/{ana}/forget"
        async with http.post(forget, data={}) as no_csrf:
            assert no_csrf.status == 403
        async with http.post(forget, data={"csrf": form_value(ask, "csrf")}) as done:
            assert done.status == 200 and "forgotten" in await done.text()
        async with db.uow() as uow:
            s = uow.session
            customer = await s.get(Customer, ana)
            assert customer is not None and customer.anonymised_at is not None
            assert customer.name is None and customer.phone is None
            assert customer.external_id != "c-1"
            links = await s.scalars(
                select(ChannelIdentity).where(ChannelIdentity.customer_id == ana)
            )
            assert list(links) == []
            texts = await s.scalars(select(Message.text).where(Message.chat_id == "100"))
            assert set(texts) == {None}
            done_by = list(await s.scalars(select(WebAction)))
        assert [(a.user_id, a.action, a.customer_id) for a in done_by] == [
            (str(ADMIN), "forget", ana)
        ]
        # The word index forgot them too: the search no longer finds their words.
        status, page = await _get(http, f"{site.base}/admin/conversations", words="arrived broken")
        assert "No messages match." in page


async def test_export_asks_first_then_gives_what_mydata_gives(
    api: FakeBotApi, db: Database
) -> None:
    async with admin_site(api, db) as site, client() as http:
        ana = await _people(site, db)
        await sign_in(http, site.base, await site.link_for(ADMIN))
        status, ask = await _get(http, f"{site.base}/admin/customers/{ana}/export")
        assert status == 200 and 'method="post"' in ask
        async with db.uow() as uow:
            assert list(await uow.session.scalars(select(WebAction))) == []
        url = f"{site.base}/admin/customers/{ana}/export"
        async with http.post(url, data={"csrf": form_value(ask, "csrf")}) as got:
            assert got.status == 200 and "attachment" in got.headers["Content-Disposition"]
            data = json.loads(await got.text())
        assert data["customer"]["external_id"] == "c-1" and data["customer"]["phone"] == PHONE
        assert any(m["text"] == "The mug arrived broken" for m in data["messages"])
        assert [o["external_id"] for o in data["orders"]] == ["c-1-o1"]
        async with db.uow() as uow:
            actions = list(await uow.session.scalars(select(WebAction)))
        assert [(a.action, a.customer_id) for a in actions] == [("export", ana)]


def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text() -> None:
    from bot.entrypoints.http.admin.conversations import _csv_line

    row = dict.fromkeys(FIELDS, "")
    row.update(text='=HYPERLINK("http://evil.example","x")', chat_id="-500", customer="+c")
    [cells] = list(csv.reader([_csv_line(row)]))
    shown = dict(zip(FIELDS, cells, strict=True))
    assert shown["text"] == '\'=HYPERLINK("http://evil.example","x")'
    assert shown["customer"] == "'+c" and shown["chat_id"] == "-500"  # ids are not text
