"""Update intake through both Telegram adapters: what a library cannot read, a server that
answers at once, text no database stores, and commands addressed by name (issue 14).

Each test runs the real aiogram or python-telegram-bot polling the fake Bot API
server over HTTP, the real engine and the real outbox sender.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Database
from storage.links import create_token
from storage.models import DeadUpdate, FollowUp, Message, SurveyResponse
from tests.builders import T0, Clock, customer_with_delivered_order
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings

CHAT = 100


async def started(api: FakeBotApi, db: Database, framework: str, **kw: Any) -> BotStack:
    settings = telegram_settings(api.url, framework)  # type: ignore[attr-defined]
    return await BotStack(api, settings, db, Clock(), **kw).start()


@pytest.fixture
async def stack(api: FakeBotApi, sqlite_db: Database, framework: str) -> AsyncIterator[BotStack]:
    running = await started(api, sqlite_db, framework)
    try:
        yield running
    finally:
        await running.stop()


async def dead_updates(db: Database) -> list[DeadUpdate]:
    async with db.uow() as uow:
        return list((await uow.session.scalars(select(DeadUpdate).order_by(DeadUpdate.id))).all())


async def inbound_texts(db: Database) -> list[str | None]:
    async with db.uow() as uow:
        query = select(Message.text).where(Message.direction == "in").order_by(Message.id)
        return list((await uow.session.scalars(query)).all())


async def test_an_update_the_library_cannot_read_is_skipped_kept_and_the_others_are_handled(
    stack: BotStack, api: FakeBotApi
) -> None:
    [bad] = await api.inject(tg.unreadable_message(CHAT))
    await stack.deliver(tg.message(CHAT, "hello"), tg.message(CHAT + 1, "hi"))

    assert len(api.texts(str(CHAT))) == 1 and len(api.texts(str(CHAT + 1))) == 1
    await api.wait_until(lambda: api.confirmed() > bad)  # passed, not fetched for ever
    await stack.channel.wait_idle()
    [dead] = await dead_updates(stack.db)
    assert (dead.channel, dead.update_id) == ("telegram", str(bad))
    assert dead.raw["message"]["text"] == "hello" and "chat" not in dead.raw["message"]
    assert dead.error


async def test_a_button_press_that_cannot_be_read_is_still_answered(
    stack: BotStack, api: FakeBotApi
) -> None:
    await api.inject(tg.unreadable_callback("q-unreadable"))
    await api.wait_until(lambda: bool(api.of("answerCallbackQuery")))
    [answer] = api.of("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "q-unreadable"
    await stack.channel.wait_idle()
    assert [d.raw["callback_query"]["id"] for d in await dead_updates(stack.db)] == ["q-unreadable"]


async def polls_per_second(api: FakeBotApi, seconds: float) -> float:
    before = len(api.of("getUpdates"))
    await asyncio.sleep(seconds)  # measuring a rate: real time is the point here
    return (len(api.of("getUpdates")) - before) / seconds


async def test_a_server_answering_an_empty_poll_at_once_is_not_asked_hundreds_of_times(
    api: FakeBotApi, sqlite_db: Database, framework: str
) -> None:
    api.ignores_timeout = True
    running = await started(api, sqlite_db, framework)
    pump = running.channel.pump
    paused = pump.idle_pause
    try:
        pump.idle_pause = 0.0  # as before the pause
        spinning = await polls_per_second(api, 1.0)
        pump.idle_pause = paused
        await asyncio.sleep(paused)  # the poll under way ends
        calm = await polls_per_second(api, 3.0)
        # Still served: an update that arrives is handled at the next poll.
        await running.deliver(tg.message(CHAT, "hello"))
    finally:
        await running.stop()
    print(f"{framework}: getUpdates {spinning:.0f}/s without the pause, {calm:.1f}/s with it")
    assert spinning > 10  # the fault mode is real: the server answers at once
    assert calm <= 2  # one call a second (the pause), not hundreds
    assert len(api.texts(str(CHAT))) == 1


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("abc\x00def", "abcdef"), ("a\ud800b", "a\ufffdb"), ("\x00\udfff", "\ufffd")],
)
async def test_nul_bytes_and_lone_surrogates_are_cleaned_and_answered_on_both_databases(
    api: FakeBotApi, db: Database, framework: str, sent: str, stored: str
) -> None:
    running = await started(api, db, framework)
    try:
        await running.deliver(tg.message(CHAT, sent))
    finally:
        await running.stop()
    assert len(api.texts(str(CHAT))) == 1  # a reply came
    assert await inbound_texts(db) == [stored]
    assert await dead_updates(db) == []


@pytest.mark.parametrize("command", ["/help", "/help@someone_elses_bot", "/HELP@Postsale_Test_Bot"])
async def test_in_a_private_chat_a_command_is_answered_whichever_bot_it_names(
    stack: BotStack, api: FakeBotApi, command: str
) -> None:
    await customer_with_delivered_order(stack.db, chat_id=str(CHAT))
    await stack.deliver(tg.message(CHAT, command))
    [reply] = api.texts(str(CHAT))
    assert "/problem" in reply  # the help text, not the "not understood" answer
    assert await inbound_texts(stack.db) == ["/help"]


async def test_a_deep_link_with_a_due_survey_asks_it_at_once_and_a_typed_score_counts(
    api: FakeBotApi, db: Database, framework: str
) -> None:
    customer_id, _, fid = await customer_with_delivered_order(db, chat_id=None)
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
        assert followup is not None
        followup.status, followup.sent_at = "pending", None  # due, waiting for a link
        token = await create_token(uow.session, customer_id, T0)
        await uow.commit()
    running = await started(api, db, framework)
    try:
        await running.deliver(tg.message(200, f"/start {token}"))
        welcome, question = api.sent("200")
        assert "Welcome, Ana!" in welcome.text
        assert question.callback_data == [f"nps:{fid}:{n}" for n in range(11)]
        await running.deliver(tg.message(200, "9"))  # typed at once: the answer
    finally:
        await running.stop()
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
        scores = [(r.kind, r.score) for r in await uow.session.scalars(select(SurveyResponse))]
    assert followup is not None and (followup.status, followup.sent_at) == ("answered", T0)
    assert scores == [("nps", 9)]
