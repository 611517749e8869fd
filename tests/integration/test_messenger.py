"""The messenger writes to a customer's linked chat with no incoming update to pretend."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from sqlalchemy import select

from bot.app import Database
from bot.bootstrap import build_core
from bot.handling import MessageContext, UpdateContext
from storage.models import FollowUp, Message, OutboxMessage
from tests.builders import T0, Clock, customer_with_delivered_order
from tests.integration.staff_helpers import staff_settings


async def queued(db: Database) -> list[OutboxMessage]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_message_the_bot_starts_has_an_address_and_no_incoming_update() -> None:
    outbound = {f.name for f in fields(MessageContext)}
    assert "address" in outbound and "incoming" not in outbound and "engine" not in outbound
    assert {"incoming", "messenger"} <= {f.name for f in fields(UpdateContext)}


async def test_an_operators_words_go_to_the_customers_chat_and_its_transcript(
    db: Database, tmp_path: Path
) -> None:
    core = build_core(db, staff_settings(tmp_path), Clock())
    customer_id, _, _ = await customer_with_delivered_order(db, chat_id="100")
    async with db.uow() as uow:
        assert await core.messenger.tell_customer(uow.session, customer_id, "On its way", T0)
        await uow.commit()

    [row] = await queued(db)
    assert (row.channel, row.chat_id, row.purpose) == ("telegram", "100", "operator")
    assert row.body == {"text": "On its way"} and row.customer_id == customer_id
    async with db.uow() as uow:
        line = await uow.session.scalar(select(Message).where(Message.direction == "out"))
    assert line is not None and (line.chat_id, line.text) == ("100", "On its way")


async def test_a_customer_with_no_linked_chat_gets_nothing_and_the_caller_is_told(
    db: Database, tmp_path: Path
) -> None:
    core = build_core(db, staff_settings(tmp_path), Clock())
    customer_id, _, fid = await customer_with_delivered_order(db, chat_id=None)
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
        assert followup is not None
        assert not await core.messenger.start_survey(uow.session, followup, T0)
        assert not await core.messenger.tell_customer(uow.session, customer_id, "Hi", T0)
        await uow.commit()
    assert await queued(db) == []


async def test_an_invitation_goes_to_the_channel_the_customer_linked_last(
    db: Database, tmp_path: Path
) -> None:
    core = build_core(db, staff_settings(tmp_path), Clock())
    _, _, fid = await customer_with_delivered_order(db, chat_id="c-7", channel="console")
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
        assert followup is not None
        assert await core.messenger.start_survey(uow.session, followup, T0)
        await uow.commit()

    [row] = await queued(db)
    assert (row.channel, row.chat_id, row.purpose) == ("console", "c-7", "invitation")
    assert row.followup_id == fid and row.deadline is not None
