"""Operators are told at addresses of their own: (OPERATOR_CHANNEL, chat), never on the
channel the customer happened to write on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from bot.app import Database
from bot.bootstrap import build_core
from bot.engine.pipeline import Pipeline
from flows.events import ButtonIn, CommandIn, Event, TextIn
from storage.models import OutboxMessage
from tests.builders import Clock, customer_with_delivered_order, incoming
from tests.integration.staff_helpers import OPERATOR, staff_settings

GROUP = "-100200300"


async def complain_on_console(db: Database, pipeline: Pipeline) -> None:
    """The console's customer reports a damaged item (a ticket is opened)."""
    await customer_with_delivered_order(db, chat_id="customer", channel="console")
    events: list[Event] = [CommandIn("problem"), ButtonIn("cat:damaged"), TextIn("Broken mug")]
    for event in events:
        await pipeline.handle(replace(incoming(event, "customer"), channel="console"))


async def ticket_alerts(db: Database) -> list[tuple[str, str]]:
    async with db.uow() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "ticket")
        )
        return [(row.channel, row.chat_id) for row in rows]


async def test_a_console_customers_ticket_is_announced_to_the_operators_group_on_telegram(
    db: Database, tmp_path: Path
) -> None:
    settings = staff_settings(tmp_path, operator_chat_id=GROUP)
    assert settings.operator_channel == "telegram"  # the default
    await complain_on_console(db, build_core(db, settings, Clock()).pipeline)

    assert await ticket_alerts(db) == [("telegram", GROUP)]


async def test_without_a_group_each_operator_is_told_on_the_operators_channel(
    db: Database, tmp_path: Path
) -> None:
    settings = staff_settings(tmp_path, operator_channel="console", admin_ids=[])
    await complain_on_console(db, build_core(db, settings, Clock()).pipeline)

    assert await ticket_alerts(db) == [("console", OPERATOR)]
