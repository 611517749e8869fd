"""/mydata sends the customer their data; /forget erases it and the KPIs stay true."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from sqlalchemy import select, update

from bot.app import Database
from bot.bootstrap import build_core
from bot.engine.pipeline import Pipeline
from storage.models import (
    Base,
    ChannelIdentity,
    Customer,
    FollowUp,
    Message,
    SurveyResponse,
    Ticket,
)
from tests.builders import Clock, customer_with_delivered_order
from tests.integration.staff_helpers import (
    CUSTOMER_CHAT,
    OPERATOR,
    bodies_after,
    open_complaint,
    press,
    send,
    staff_settings,
    texts,
)

PHONE, EMAIL, NAME = "+5511987654321", "ana.souza@example.com", "Ana Souza"
REASON, PROBLEM = "The courier threw the box at my door", "My blue teapot arrived cracked"
OPERATOR_WORDS = "Dear Ana, a new teapot leaves tomorrow"
PERSONAL = (PHONE, EMAIL, NAME, "Ana", REASON, PROBLEM, OPERATOR_WORDS, "ana.souza")


def read_export(path: Path) -> tuple[int, dict]:
    return stat.S_IMODE(path.stat().st_mode), json.loads(path.read_text("utf-8"))


async def a_customer_with_a_history(db: Database, engine: Pipeline, clock: Clock) -> int:
    """Ana answers a survey as a detractor, opens a complaint and gets an answer."""
    customer_id, _, fid = await customer_with_delivered_order(db, phone=PHONE)
    async with db.uow() as uow:
        await uow.session.execute(
            update(Customer).where(Customer.id == customer_id).values(name=NAME, email=EMAIL)
        )
        followup = await uow.session.get(FollowUp, fid)
        assert followup is not None
        await engine.messenger.start_survey(uow.session, followup, clock())
        await uow.commit()
    await send(db, engine, CUSTOMER_CHAT, press(f"nps:{fid}:3"))
    await send(db, engine, CUSTOMER_CHAT, REASON)
    await send(db, engine, CUSTOMER_CHAT, press(f"csat:{fid}:2"))
    clock.advance(minutes=5)
    n = await open_complaint(db, engine, PROBLEM)
    clock.advance(hours=1)
    await send(db, engine, OPERATOR, f"/reply {n} {OPERATOR_WORDS}")
    await send(db, engine, OPERATOR, f"/ticket {n}")  # the details show Ana's name
    clock.advance(hours=1)
    await send(db, engine, OPERATOR, f"/resolve {n}")
    await send(db, engine, CUSTOMER_CHAT, press(f"res:{n}:yes"))
    return customer_id


async def test_mydata_sends_a_private_json_file_with_everything_we_keep(
    db: Database, tmp_path: Path
) -> None:
    clock = Clock()
    engine = build_core(db, staff_settings(tmp_path), clock).pipeline
    await a_customer_with_a_history(db, engine, clock)

    bodies = await send(db, engine, CUSTOMER_CHAT, "/mydata")

    assert "Here is a copy of the data we keep about you." in texts(bodies)
    document = bodies[-1]
    assert document["text"] == "Your data, as a JSON file."
    assert document["document_name"] == "mydata.json"
    path = Path(document["document_path"])
    assert path.is_relative_to(tmp_path / "files")
    mode, data = read_export(path)
    assert mode == 0o600
    assert data["customer"]["name"] == NAME and data["customer"]["phone"] == PHONE
    assert {(a["kind"], a["score"]) for a in data["survey_answers"]} == {("nps", 3), ("csat", 2)}
    assert any(a["reason"] == REASON for a in data["survey_answers"])
    assert [t["category"] for t in data["tickets"]] == ["detractor", "damaged"]
    assert any(m["text"] == PROBLEM for m in data["messages"])
    assert any(m["text"] == "/mydata" for m in data["messages"])  # this update's own line
    assert data["chats"][0]["chat_id"] == CUSTOMER_CHAT


async def everything_as_text(db: Database) -> str:
    """Every row of every table, as one string to search for personal data."""
    parts = []
    async with db.uow() as uow:
        for table in Base.metadata.sorted_tables:
            rows = await uow.session.execute(select(table))
            parts.extend(repr(tuple(row)) for row in rows)
    return "\n".join(parts)


async def kpi_view(db: Database, now: object) -> dict:
    from storage.read.kpi import compute_kpis

    async with db.uow() as uow:
        return await compute_kpis(uow.session, None, None, now)  # type: ignore[arg-type]


async def test_forget_erases_personal_data_and_keeps_scores_and_ticket_times(
    db: Database, tmp_path: Path
) -> None:
    clock = Clock()
    engine = build_core(db, staff_settings(tmp_path), clock).pipeline
    customer_id = await a_customer_with_a_history(db, engine, clock)
    stored = await everything_as_text(db)
    assert [word for word in PERSONAL if word not in stored] == []
    kpis_before = await kpi_view(db, clock())
    async with db.uow() as uow:
        timings_before = [
            (t.id, t.opened_at, t.first_response_s, t.resolution_s, t.waiting_s, t.status)
            for t in await uow.session.scalars(select(Ticket).order_by(Ticket.id))
        ]

    question = await send(db, engine, CUSTOMER_CHAT, "/forget")
    assert "forget:yes" in [b["data"] for body in question for row in body["buttons"] for b in row]
    await send(db, engine, CUSTOMER_CHAT, press("forget:yes"))
    # The messages still queued to the person were dropped (SQLite may then reuse their
    # ids): the chat's last two messages are the answers to "yes".
    done = texts((await bodies_after(db, 0, CUSTOMER_CHAT))[-2:])

    assert "Your data has been deleted" in done
    assert "Removed: 1 chat link." in done and "2 survey answers and 2 tickets." in done
    stored = await everything_as_text(db)
    assert [word for word in PERSONAL if word in stored] == []
    async with db.uow() as uow:
        s = uow.session
        customer = await s.get(Customer, customer_id)
        assert customer is not None and customer.anonymised_at == clock()
        assert (customer.name, customer.phone, customer.email) == (None, None, None)
        assert customer.external_id.startswith("forgotten-")
        assert list(await s.scalars(select(ChannelIdentity))) == []
        assert (
            list(await s.scalars(select(Message.text).where(Message.customer_id.is_not(None))))
            == []
        )
        scores = sorted((r.kind, r.score) for r in await s.scalars(select(SurveyResponse)))
        timings_after = [
            (t.id, t.opened_at, t.first_response_s, t.resolution_s, t.waiting_s, t.status)
            for t in await s.scalars(select(Ticket).order_by(Ticket.id))
        ]
    assert scores == [("csat", 2), ("nps", 3)]
    assert timings_after == timings_before
    assert await kpi_view(db, clock()) == kpis_before

    # The chat is now a stranger's: the bot asks to link it again, /mydata has nothing.
    assert "link" in texts(await send(db, engine, CUSTOMER_CHAT, "hello")).lower()
