"""``followups.sent`` counts the invitations that left, not those queued or failed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import Database
from bot.bootstrap import build_core
from bot.delivery.limits import SendLimits
from bot.delivery.sender import OutboxSender
from bot.settings import Settings
from storage.models import FollowUp, OutboxMessage
from storage.read.kpi import compute_kpis
from tests.builders import T0, customer_with_delivered_order
from tests.integration.outbox_fakes import HttpChannel, ScriptedBotApi, serving

QUICK = SendLimits(global_rate=500, per_chat_rate=100, poll_interval=0.05)
SETTINGS = Settings(_env_file=None, default_locale="en")  # type: ignore[call-arg]


@pytest.fixture
async def bot_api() -> AsyncIterator[tuple[ScriptedBotApi, HttpChannel]]:
    api = ScriptedBotApi(blocked={"200"})
    async with serving(api) as channel:
        yield api, channel


async def sent_followups(db: Database) -> int:
    async with db.reader() as uow:
        kpis = await compute_kpis(uow.session, None, None, T0 + timedelta(days=1))
    sent: int = kpis["followups"]["sent"]
    return sent


async def test_only_invitations_whose_outbox_row_was_sent_count_as_sent_follow_ups(
    db: Database, bot_api: tuple[ScriptedBotApi, HttpChannel]
) -> None:
    api, channel = bot_api
    engine = build_core(db, SETTINGS, lambda: T0, operator_commands=False).pipeline
    for external_id, chat in (("c-1", "100"), ("c-2", "200")):  # c-2 has blocked the bot
        await customer_with_delivered_order(db, external_id, chat_id=chat)
    async with db.uow() as uow:
        for followup in await uow.session.scalars(select(FollowUp)):
            assert await engine.messenger.start_survey(uow.session, followup, T0)
        await uow.commit()
    async with db.reader() as uow:
        linked = await uow.session.scalars(
            select(OutboxMessage.followup_id).where(OutboxMessage.purpose == "invitation")
        )
        assert None not in set(linked)

    assert await sent_followups(db) == 0  # queued: not sent yet
    sender = OutboxSender(db, {"telegram": channel}, QUICK, clock=lambda: T0)
    await asyncio.wait_for(sender.run(until_idle=True), 20)

    assert api.texts("100") and not api.texts("200")
    assert await sent_followups(db) == 1
