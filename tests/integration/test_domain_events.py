"""Each domain event reaches its handler in the emitting transaction: operators are told."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Database
from bot.bootstrap import build_core
from bot.handling import EventHandlers, MissingHandler
from storage import tickets
from storage.models import OutboxMessage, Ticket
from tests.builders import T0, Clock, customer_with_delivered_order
from tests.integration import staff_helpers as staff

OPERATORS = "-500"  # the operators' group


async def outbox_chats(db: Database, after: int) -> list[str]:
    """The chat of each message queued after ``after``, in the order they were queued."""
    async with db.uow() as uow:
        query = select(OutboxMessage.chat_id).where(OutboxMessage.id > after)
        return list(await uow.session.scalars(query.order_by(OutboxMessage.id)))


async def test_a_complaint_opens_a_ticket_and_the_operators_chat_gets_it_before_the_customer(
    db: Database, tmp_path: Path
) -> None:
    core = build_core(db, staff.staff_settings(tmp_path, operator_chat_id=OPERATORS), Clock())
    await customer_with_delivered_order(db)
    await staff.send(db, core.pipeline, staff.CUSTOMER_CHAT, "/problem")
    await staff.send(db, core.pipeline, staff.CUSTOMER_CHAT, staff.press("cat:damaged"))
    before = await staff.last_outbox_id(db)

    await staff.send(db, core.pipeline, staff.CUSTOMER_CHAT, "The mug arrived broken")

    alert = staff.texts(await staff.bodies_after(db, before, OPERATORS))
    assert "New ticket #1" in alert and "The mug arrived broken" in alert
    # As before the events had a table: the announcement is queued ahead of the reply.
    assert (await outbox_chats(db, before))[0] == OPERATORS


async def test_a_detractor_answer_reaches_the_operators_with_its_score(
    db: Database, tmp_path: Path
) -> None:
    core = build_core(db, staff.staff_settings(tmp_path, operator_chat_id=OPERATORS), Clock(T0))
    _, _, fid = await customer_with_delivered_order(db, chat_id=staff.CUSTOMER_CHAT, now=T0)
    assert fid is not None
    await staff.invite_to_survey(db, core.pipeline, fid, T0)
    before = await staff.last_outbox_id(db)
    await staff.send(db, core.pipeline, staff.CUSTOMER_CHAT, staff.press(f"nps:{fid}:2"))
    await staff.send(db, core.pipeline, staff.CUSTOMER_CHAT, "It came late")

    assert "Detractor follow-up, ticket #1 (NPS 2)" in staff.texts(
        await staff.bodies_after(db, before, OPERATORS)
    )


async def test_a_reopened_ticket_reaches_the_operators(db: Database, tmp_path: Path) -> None:
    settings = staff.staff_settings(tmp_path, operator_chat_id=OPERATORS)
    core = build_core(db, settings, Clock())
    await customer_with_delivered_order(db)
    n = await staff.open_complaint(db, core.pipeline)
    async with db.uow() as uow:
        ticket = await uow.session.get(Ticket, n)
        assert ticket is not None
        await tickets.resolve(uow.session, ticket, "op:900", T0)
        assert await core.messenger.ask_resolution(uow.session, ticket, T0)
        await uow.commit()
    before = await staff.last_outbox_id(db)

    await staff.send(db, core.pipeline, staff.CUSTOMER_CHAT, staff.press(f"res:{n}:no"))

    assert f"Ticket #{n} was reopened" in staff.texts(
        await staff.bodies_after(db, before, OPERATORS)
    )


async def test_an_sla_warning_reaches_the_operators(db: Database, tmp_path: Path) -> None:
    clock = Clock(T0)  # Tuesday 12:00 in São Paulo: 4h to the first response
    core = build_core(db, staff.staff_settings(tmp_path, operator_chat_id=OPERATORS), clock)
    await customer_with_delivered_order(db)
    n = await staff.open_complaint(db, core.pipeline)
    before = await staff.last_outbox_id(db)
    clock.advance(hours=3, minutes=15)

    assert await core.watch_sla(clock())

    assert f"Ticket #{n}: first response due in" in staff.texts(
        await staff.bodies_after(db, before, OPERATORS)
    )


async def test_an_event_without_a_handler_fails_the_update_and_commits_nothing(
    db: Database, tmp_path: Path
) -> None:
    core = build_core(db, staff.staff_settings(tmp_path), Clock(), operator_commands=False)
    core.pipeline.events = EventHandlers({})
    await customer_with_delivered_order(db)
    await staff.send(db, core.pipeline, staff.CUSTOMER_CHAT, "/problem")
    await staff.send(db, core.pipeline, staff.CUSTOMER_CHAT, staff.press("cat:damaged"))

    with pytest.raises(MissingHandler):
        await staff.send(db, core.pipeline, staff.CUSTOMER_CHAT, "The mug arrived broken")

    async with db.uow() as uow:
        assert await uow.session.scalar(select(func.count(Ticket.id))) == 0
