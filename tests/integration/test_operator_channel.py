"""An operator handles a ticket over Telegram, through each adapter and the fake Bot API.

A customer answers the survey and opens a complaint in their chat; the operator, in a
private chat with the bot, answers it 1h30m later and resolves it 22h after it was
opened; the customer confirms and rates. The ticket's stamps give exactly those times,
and ``/kpi`` shows the figures that ``postsale kpi --json`` prints for the same period.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Database
from bot.operators.kpi_view import duration, number
from storage.models import FollowUp, Ticket
from tests.builders import T0, Clock, customer_with_delivered_order
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings

ROOT = Path(__file__).resolve().parents[2]
CUSTOMER, OPERATOR = 100, 900
PERIOD = ("2026-03-01", "2026-03-31")  # T0 is 2026-03-10


@pytest.fixture(params=["aiogram", "ptb"])
async def stack(
    request: pytest.FixtureRequest, db: Database, tmp_path: Path
) -> AsyncIterator[BotStack]:
    api = FakeBotApi()
    url = await api.start()
    settings = telegram_settings(
        url,
        str(request.param),
        operator_ids=[str(OPERATOR)],
        data_dir=str(tmp_path / "files"),
        business_hours="mon-fri 09:00-18:00",
        operators_timezone="America/Sao_Paulo",
    )
    running = await BotStack(api, settings, db, Clock(T0)).start()
    try:
        yield running
    finally:
        await running.stop()
        await api.close()


def clock_of(stack: BotStack) -> Clock:
    clock = stack.engine.clock
    assert isinstance(clock, Clock)
    return clock


async def kpi_json(db_url: str) -> dict[str, Any]:
    """``postsale kpi --json`` for PERIOD, as a store's script would run it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "kpi",
        "--json",
        "--since",
        PERIOD[0],
        "--until",
        PERIOD[1],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    result: dict[str, Any] = json.loads(out)
    return result


async def test_an_operator_resolves_a_ticket_and_kpi_matches_the_command_line(
    stack: BotStack, db: Database, db_url: str
) -> None:
    api, clock, me = stack.api, clock_of(stack), str(CUSTOMER)
    _, _, followup_id = await customer_with_delivered_order(db, chat_id=me, now=T0)
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, followup_id)
        assert followup is not None
        assert await stack.messenger.start_survey(uow.session, followup, clock())
        await uow.commit()
    await stack.flush()
    await stack.deliver(tg.callback(CUSTOMER, f"nps:{followup_id}:9"))
    await stack.deliver(tg.message(CUSTOMER, "Fast delivery"))
    await stack.deliver(tg.callback(CUSTOMER, f"csat:{followup_id}:4"))

    await stack.deliver(tg.message(CUSTOMER, "/problem"))
    await stack.deliver(tg.callback(CUSTOMER, "cat:damaged"))
    await stack.deliver(tg.message(CUSTOMER, "The mug arrived broken"))
    async with db.uow() as uow:
        number_ = await uow.session.scalar(select(Ticket.id))
    assert number_ is not None
    assert any(f"New ticket #{number_}" in t for t in api.texts(str(OPERATOR)))

    clock.now = T0 + timedelta(hours=1, minutes=30)
    await stack.deliver(tg.message(OPERATOR, f"/reply {number_} Sorry! A new one ships today."))
    assert api.texts(me)[-1].endswith("Sorry! A new one ships today.")
    assert "First response after 1h 30m" in api.texts(str(OPERATOR))[-1]

    clock.now = T0 + timedelta(hours=22)
    await stack.deliver(tg.message(OPERATOR, f"/resolve {number_}"))
    assert f"res:{number_}:yes" in api.sent(me)[-1].callback_data
    await stack.deliver(tg.callback(CUSTOMER, f"res:{number_}:yes"))
    await stack.deliver(tg.callback(CUSTOMER, f"rate:{number_}:5"))

    async with db.uow() as uow:
        ticket = await uow.session.get(Ticket, number_)
        assert ticket is not None
        assert ticket.status == "closed"
        assert (ticket.first_response_s, ticket.resolution_s) == (90 * 60, 22 * 3600)

    await stack.deliver(tg.message(OPERATOR, f"/kpi {PERIOD[0]}..{PERIOD[1]}"))
    summary = next(t for t in reversed(api.texts(str(OPERATOR))) if t.startswith("📊"))
    figures = await kpi_json(db_url)
    nps, csat, tickets = figures["nps"], figures["csat"], figures["tickets"]
    assert (nps["score"], nps["promoters"], csat["mean"]) == (100.0, 1, 4.0)
    assert (tickets["opened"], tickets["resolved"]) == (1, 1)
    assert f"NPS {number(nps['score'])}" in summary
    assert f"CSAT {number(csat['mean'], 2)}/5" in summary
    assert f"Tickets opened {tickets['opened']}" in summary
    for label, key in (("First response", "first_response_s"), ("Resolution", "resolution_s")):
        spread = tickets[key]
        assert f"{label}: median {duration(spread['median'])}" in summary
        assert f"p90 {duration(spread['p90'])}" in summary
    assert "median 1h 30m" in summary and "median 22h" in summary
    # The 20h30m from the reply to the resolution were spent waiting on the customer;
    # what is left, 12:00-13:30 on a Tuesday in São Paulo, is all business time.
    assert "resolution median 1h 30m, p90 1h 30m (without waiting" in summary
    assert "waited median 20h 30m" in summary
    photos = api.of("sendPhoto", str(OPERATOR))
    assert photos, "the weekly chart was not sent"
    (_, png), *_ = photos[-1].files.values()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_a_customer_and_an_operator_are_refused_what_is_not_theirs_over_telegram(
    stack: BotStack, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    api, me = stack.api, str(CUSTOMER)
    await customer_with_delivered_order(db, chat_id=me, now=T0)
    await stack.deliver(tg.message(CUSTOMER, "/problem"))
    await stack.deliver(tg.callback(CUSTOMER, "cat:late_delivery"))
    await stack.deliver(tg.message(CUSTOMER, "Still waiting"))
    async with db.uow() as uow:
        before = (await uow.session.scalars(select(Ticket))).one()
        state = (before.id, before.status, before.first_response_at, before.assignee)
    attempts = {
        CUSTOMER: [f"/reply {state[0]} hi", f"/resolve {state[0]}", "/kpi", "/tickets all"],
        OPERATOR: ["/history c-1", "/operators add 777 admin"],
    }
    with caplog.at_level("WARNING", logger="postsale.operators"):
        for chat, commands in attempts.items():
            for text in commands:
                await stack.deliver(tg.message(chat, text))
                answer = api.texts(str(chat))[-1]
                assert answer.startswith("Sorry,"), (text, answer)
    refusals = [r for r in caplog.records if r.getMessage().startswith("refused")]
    assert len(refusals) == 6
    async with db.uow() as uow:
        after = (await uow.session.scalars(select(Ticket))).one()
        assert (after.id, after.status, after.first_response_at, after.assignee) == state
    assert not any(t == "hi" for t in api.texts(me))
