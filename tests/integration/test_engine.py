"""The conversation engine on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.app import Database
from bot.bootstrap import build_core
from bot.engine.pipeline import Pipeline
from bot.handling import UpdateContext
from bot.settings import Settings
from flows.events import ButtonIn, CommandIn, MediaIn, TextIn
from storage.links import create_token
from storage.models import (
    ChannelIdentity,
    Conversation,
    Customer,
    FollowUp,
    HandledUpdate,
    Message,
    OutboxMessage,
    SurveyResponse,
    Ticket,
)
from tests.builders import Clock, customer_with_delivered_order, incoming


def settings() -> Settings:
    return Settings(_env_file=None, default_locale="en")  # type: ignore[call-arg]


async def outbox(db: Database, chat_id: str = "100") -> list[dict]:
    async with db.uow() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
        )
        return [r.body for r in rows]


async def count(db: Database, model: type, *where: object) -> int:
    async with db.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model).where(*where)))


async def invite(db: Database, engine: Pipeline, followup_id: int) -> None:
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, followup_id)
        assert followup is not None
        assert await engine.messenger.start_survey(uow.session, followup, engine.clock())
        await uow.commit()


def button_data(body: dict) -> list[str]:
    return [b["data"] for row in body.get("buttons", []) for b in row]


async def test_a_survey_answered_by_buttons_records_nps_reason_and_csat(db: Database) -> None:
    clock = Clock()
    engine = build_core(db, settings(), clock, operator_commands=False).pipeline
    _, _, fid = await customer_with_delivered_order(db)
    await invite(db, engine, fid)
    invitation = (await outbox(db))[-1]
    assert f"nps:{fid}:10" in button_data(invitation)

    await engine.handle(incoming(ButtonIn(f"nps:{fid}:9")))
    await engine.handle(incoming(TextIn("fast delivery")))
    csat_question = (await outbox(db))[-1]
    assert f"csat:{fid}:5" in button_data(csat_question)
    await engine.handle(incoming(ButtonIn(f"csat:{fid}:4")))

    async with db.uow() as uow:
        answers = {
            r.kind: (r.score, r.reason) for r in await uow.session.scalars(select(SurveyResponse))
        }
        followup = await uow.session.get(FollowUp, fid)
    assert answers == {"nps": (9, "fast delivery"), "csat": (4, None)}
    assert followup is not None and followup.status == "answered"


async def test_typed_scores_are_accepted_and_bad_input_is_reprompted(db: Database) -> None:
    engine = build_core(db, settings(), Clock(), operator_commands=False).pipeline
    _, _, fid = await customer_with_delivered_order(db)
    await invite(db, engine, fid)
    before = len(await outbox(db))
    for bad in (TextIn("eleven"), TextIn("11"), MediaIn("sticker"), MediaIn("photo")):
        await engine.handle(incoming(bad))
    bodies = await outbox(db)
    assert len(bodies) >= before + 4  # every bad input got an answer
    assert await count(db, SurveyResponse) == 0
    await engine.handle(incoming(TextIn(" 7 ")))
    async with db.uow() as uow:
        score = await uow.session.scalar(select(SurveyResponse.score))
    assert score == 7


async def test_a_repeated_update_and_a_second_press_record_nothing_twice(db: Database) -> None:
    engine = build_core(db, settings(), Clock(), operator_commands=False).pipeline
    _, _, fid = await customer_with_delivered_order(db)
    await invite(db, engine, fid)
    press = incoming(ButtonIn(f"nps:{fid}:10"), update_id="77")
    await engine.handle(press)
    await engine.handle(press)  # the same update delivered again
    await engine.handle(incoming(ButtonIn(f"nps:{fid}:3")))  # the button pressed again
    assert await count(db, SurveyResponse) == 1
    assert await count(db, Message, Message.direction == "in") == 2
    async with db.uow() as uow:
        assert await uow.session.scalar(select(SurveyResponse.score)) == 10


async def test_a_button_of_an_older_survey_records_nothing(db: Database) -> None:
    engine = build_core(db, settings(), Clock(), operator_commands=False).pipeline
    _, _, fid = await customer_with_delivered_order(db)
    await invite(db, engine, fid)
    replies_before = len(await outbox(db))
    await engine.handle(incoming(ButtonIn(f"nps:{fid + 999}:10")))
    assert await count(db, SurveyResponse) == 0
    assert len(await outbox(db)) == replies_before + 1  # a clear answer came back


async def test_a_restart_mid_survey_resumes_where_it_stood(db: Database, db_url: str) -> None:
    clock = Clock()
    first = db  # emptied by the fixture; closed here to stand for the process ending
    engine = build_core(first, settings(), clock, operator_commands=False).pipeline
    _, _, fid = await customer_with_delivered_order(first)
    await invite(first, engine, fid)
    await engine.handle(incoming(ButtonIn(f"nps:{fid}:4")))
    await first.close()

    second = await Database.open(db_url)
    try:
        engine = build_core(second, settings(), clock, operator_commands=False).pipeline
        await engine.handle(incoming(TextIn("box was crushed")))
        await engine.handle(incoming(TextIn("2")))
        async with second.uow() as uow:
            responses = await uow.session.scalars(select(SurveyResponse))
            answers = sorted((r.kind, r.score, r.reason) for r in responses)
            tickets = (await uow.session.scalars(select(Ticket))).all()
        assert answers == [("csat", 2, None), ("nps", 4, "box was crushed")]
        # a detractor gets a follow-up ticket, and is told its number
        assert [(t.source, t.description) for t in tickets] == [("detractor", "box was crushed")]
        texts = " ".join(b.get("text", "") for b in await outbox(second))
        assert f"#{tickets[0].id}" in texts
    finally:
        await second.close()


async def test_a_complaint_opens_a_numbered_ticket_and_later_messages_join_it(
    db: Database,
) -> None:
    engine = build_core(db, settings(), Clock(), operator_commands=False).pipeline
    customer_id, order_ids, _ = await customer_with_delivered_order(db)
    await engine.handle(incoming(CommandIn("problem")))
    assert "cat:damaged" in button_data((await outbox(db))[-1])
    await engine.handle(incoming(ButtonIn("cat:damaged")))
    await engine.handle(incoming(TextIn("The mug arrived broken")))
    async with db.uow() as uow:
        ticket = await uow.session.scalar(select(Ticket))
    assert ticket is not None
    assert (ticket.customer_id, ticket.category, ticket.order_id) == (
        customer_id,
        "damaged",
        order_ids[0],
    )
    assert ticket.description == "The mug arrived broken"
    assert f"#{ticket.id}" in (await outbox(db))[-1]["text"]

    await engine.handle(incoming(TextIn("here is more detail")))
    from storage.models import TicketEvent

    notes = await count(db, TicketEvent, TicketEvent.kind == "customer_message")
    assert notes == 1


async def test_a_deep_link_token_links_once_and_only_its_customer(db: Database) -> None:
    engine = build_core(db, settings(), Clock(), operator_commands=False).pipeline
    customer_id, _, _ = await customer_with_delivered_order(db, chat_id=None)
    async with db.uow() as uow:
        token = await create_token(uow.session, customer_id, Clock()())
        await uow.commit()
    await engine.handle(incoming(CommandIn("start", token), chat_id="200"))
    await engine.handle(incoming(CommandIn("start", token), chat_id="300"))
    await engine.handle(incoming(CommandIn("start", "not-a-token"), chat_id="400"))
    async with db.uow() as uow:
        linked = (await uow.session.execute(select(ChannelIdentity.chat_id))).scalars().all()
    assert linked == ["200"]
    async with db.uow() as uow:
        owners = dict(
            (
                await uow.session.execute(select(Conversation.chat_id, Conversation.customer_id))
            ).all()
        )
    assert owners == {"200": customer_id, "300": None, "400": None}
    for chat in ("200", "300", "400"):
        assert await outbox(db, chat), f"chat {chat} got no answer"
    assert (await outbox(db, "300"))[-1]["text"] != (await outbox(db, "200"))[-1]["text"]


async def test_stop_start_and_a_language_choice_are_stored(db: Database) -> None:
    clock = Clock()
    engine = build_core(db, settings(), clock, operator_commands=False).pipeline
    customer_id, _, _ = await customer_with_delivered_order(db)

    async def stored() -> tuple[object, ...]:
        async with db.uow() as uow:
            customer = await uow.session.get(Customer, customer_id)
            conv = await uow.session.scalar(select(Conversation))
            assert customer is not None and conv is not None
            return customer.opted_out_at, customer.locale, conv.locale

    await engine.handle(incoming(CommandIn("stop", "")))
    assert await stored() == (clock(), None, None)
    await engine.handle(incoming(ButtonIn("lang:es")))
    assert await stored() == (clock(), "es", "es")
    clock.advance(minutes=1)
    await engine.handle(incoming(CommandIn("start", "")))
    assert await stored() == (None, "es", "es")
    assert "/stop" in (reply := (await outbox(db))[-1]["text"]) and "Volverás" in reply


async def test_concurrent_updates_of_many_chats_all_commit(db: Database) -> None:
    engine = build_core(db, settings(), Clock(), operator_commands=False).pipeline
    fids = []
    for n in range(8):
        _, _, fid = await customer_with_delivered_order(db, f"c{n}", chat_id=str(500 + n))
        await invite(db, engine, fid)
        fids.append(fid)
    await asyncio.gather(
        *(
            engine.handle(incoming(ButtonIn(f"nps:{fid}:8"), chat_id=str(500 + n)))
            for n, fid in enumerate(fids)
        )
    )
    assert await count(db, SurveyResponse, SurveyResponse.kind == "nps") == 8


async def test_the_transcript_keeps_both_sides(db: Database) -> None:
    engine = build_core(db, settings(), Clock(), operator_commands=False).pipeline
    _, _, fid = await customer_with_delivered_order(db)
    await invite(db, engine, fid)
    await engine.handle(incoming(ButtonIn(f"nps:{fid}:10")))
    async with db.uow() as uow:
        lines = (
            await uow.session.execute(select(Message.direction, Message.text).order_by(Message.id))
        ).all()
        conv = await uow.session.scalar(select(Conversation))
    assert [d for d, _ in lines][:3] == ["out", "in", "out"]
    assert lines[1].text == f"[button] nps:{fid}:10"
    assert conv is not None and conv.flow == "survey"


async def test_updates_of_one_chat_arriving_together_are_handled_in_arrival_order(
    db: Database,
) -> None:
    engine = build_core(db, settings(), Clock(), operator_commands=False).pipeline
    _, _, fid = await customer_with_delivered_order(db)
    await invite(db, engine, fid)
    # Score, reason and CSAT sent in a burst: each must see the state the previous left.
    await asyncio.gather(
        engine.handle(incoming(ButtonIn(f"nps:{fid}:3"))),
        engine.handle(incoming(TextIn("late and no tracking"))),
        engine.handle(incoming(TextIn("2"))),
    )
    async with db.uow() as uow:
        responses = await uow.session.scalars(select(SurveyResponse))
        answers = sorted((r.kind, r.score, r.reason) for r in responses)
    assert answers == [("csat", 2, None), ("nps", 3, "late and no tracking")]
    assert len(engine.chat_locks) == 0  # nothing kept once the chat is idle


async def test_on_sqlite_updates_of_waiting_chats_share_a_commit_and_a_failure_stays_alone(
    sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    db = sqlite_db

    async def operator_handler(ctx: UpdateContext) -> bool:
        event = ctx.incoming.event
        if isinstance(event, CommandIn) and event.name == "boom":
            raise RuntimeError("an operator command failed half-way")
        return False

    engine = build_core(db, settings(), Clock(), operator_commands=False).pipeline
    engine.operator_handler = operator_handler
    assert engine.group is not None  # SQLite: one writer, so group commit
    fids = []
    for n in range(6):
        _, _, fid = await customer_with_delivered_order(db, f"g{n}", chat_id=str(700 + n))
        await invite(db, engine, fid)
        fids.append(fid)
    boom = incoming(CommandIn("boom", ""), chat_id="705", update_id="boom-1")
    results = await asyncio.gather(
        *(
            engine.handle(incoming(ButtonIn(f"nps:{fid}:8"), chat_id=str(700 + n)))
            for n, fid in enumerate(fids[:5])
        ),
        engine.handle(boom),
        return_exceptions=True,
    )
    assert [type(r).__name__ for r in results] == ["NoneType"] * 5 + ["RuntimeError"]
    assert "each alone now" in caplog.text  # it failed inside a batch, which was redone
    assert await count(db, SurveyResponse, SurveyResponse.kind == "nps") == 5
    # The failing update left no trace: not marked handled, no transcript line.
    assert await count(db, HandledUpdate, HandledUpdate.update_id == "boom-1") == 0
    assert await count(db, Message, Message.chat_id == "705", Message.direction == "in") == 0
    for n in range(5):
        assert len(await outbox(db, str(700 + n))) == 2  # the invitation and the answer

    # Updates that wait together really share a transaction.
    engine.group.largest = 0
    await asyncio.gather(
        *(engine.handle(incoming(TextIn("ok"), chat_id=str(700 + n))) for n in range(5))
    )
    assert engine.group.largest >= 2
