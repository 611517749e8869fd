"""The same customer journeys through both Telegram adapters, over HTTP, on a real database.

Each test runs for aiogram and python-telegram-bot (and on SQLite and PostgreSQL):
the real library polls ``FakeBotApi``, the real engine handles the updates in its
transactions, and the real outbox sender delivers the replies to the fake server.
Assertions are on what the server received and on the rows written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import Database
from flows.linking import CONTACT_LABEL
from storage.links import create_token
from storage.models import (
    ChannelIdentity,
    Conversation,
    FollowUp,
    HandledUpdate,
    Message,
    OutboxMessage,
    Ticket,
)
from tests.builders import Clock, customer_with_delivered_order
from tests.fakes import bot_api as tg
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import BotStack, telegram_settings
from tests.integration.stack_helpers import answers, invite

CHAT = 100


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_stack(api: FakeBotApi, db: Database, framework: str, clock: Clock, **kw: Any) -> BotStack:
    settings = telegram_settings(api.url, framework, **kw)  # type: ignore[attr-defined]
    return BotStack(api, settings, db, clock)


@pytest.fixture
async def stack(
    api: FakeBotApi, db: Database, framework: str, clock: Clock
) -> AsyncIterator[BotStack]:
    running = await make_stack(api, db, framework, clock, operator_ids=["900"]).start()
    try:
        yield running
    finally:
        await running.stop()


async def count(db: Database, model: type, *where: Any) -> int:
    async with db.uow() as uow:
        query = select(func.count()).select_from(model).where(*where)
        return int(await uow.session.scalar(query) or 0)


# -- linking ----------------------------------------------------------------------------


async def test_a_deep_link_links_the_chat_and_the_menu_is_published(
    stack: BotStack, api: FakeBotApi, db: Database, clock: Clock
) -> None:
    customer_id, _, _ = await customer_with_delivered_order(db, chat_id=None)
    async with db.uow() as uow:
        token = await create_token(uow.session, customer_id, clock())
        await uow.commit()

    await stack.deliver(tg.message(200, f"/start {token}"))

    async with db.uow() as uow:
        linked = (await uow.session.scalars(select(ChannelIdentity))).all()
    assert [(i.customer_id, i.chat_id) for i in linked] == [(customer_id, "200")]
    assert "Welcome, Ana!" in api.texts("200")[-1]
    # the command menu: everyone, each language, and the operator's chat
    menus = api.of("setMyCommands")
    languages = {c.params.get("language_code") for c in menus}
    assert {None, "en", "es", "ca", "pt"} <= languages
    operator_menu = [c for c in menus if (c.params.get("scope") or {}).get("chat_id") == 900]
    assert operator_menu and "kpi" in {c["command"] for c in operator_menu[0].params["commands"]}


async def test_a_shared_contact_links_by_phone_and_removes_the_keyboard(
    stack: BotStack, api: FakeBotApi, db: Database
) -> None:
    customer_id, _, _ = await customer_with_delivered_order(
        db, chat_id=None, phone="+5511987654321"
    )
    await stack.deliver(tg.message(300, "hello"))
    asked = api.sent("300")[-1]
    keyboard = asked.markup["keyboard"]
    assert keyboard[0][0] == {"text": CONTACT_LABEL, "request_contact": True}

    await stack.deliver(tg.contact(300, "+55 11 98765-4321"))

    async with db.uow() as uow:
        identity = await uow.session.scalar(select(ChannelIdentity))
    assert identity is not None and (identity.customer_id, identity.chat_id) == (customer_id, "300")
    assert api.sent("300")[-1].markup.get("remove_keyboard") is True


# -- the survey ---------------------------------------------------------------------------


async def test_a_survey_answered_with_buttons_records_scores_and_answers_every_press(
    stack: BotStack, api: FakeBotApi, db: Database
) -> None:
    _, _, fid = await customer_with_delivered_order(db, chat_id=str(CHAT))
    await invite(stack, fid)
    invitation = api.sent(str(CHAT))[-1]
    assert invitation.callback_data == [f"nps:{fid}:{n}" for n in range(11)]

    await stack.deliver(tg.callback(CHAT, f"nps:{fid}:9", query_id="q-nps"))
    assert any("reason" in t for t in api.texts(str(CHAT))[-1:])
    await stack.deliver(tg.message(CHAT, "fast delivery"))
    assert f"csat:{fid}:5" in api.sent(str(CHAT))[-1].callback_data
    await stack.deliver(tg.callback(CHAT, f"csat:{fid}:4", query_id="q-csat"))

    assert await answers(db) == {"nps": (9, "fast delivery"), "csat": (4, None)}
    answered = [c.params["callback_query_id"] for c in api.of("answerCallbackQuery")]
    assert sorted(answered) == ["q-csat", "q-nps"]


async def test_a_pressed_survey_keyboard_keeps_only_the_chosen_score_marked(
    stack: BotStack, api: FakeBotApi, db: Database
) -> None:
    _, _, fid = await customer_with_delivered_order(db, chat_id=str(CHAT))
    await invite(stack, fid)
    asked = api.last_message(str(CHAT))

    await stack.deliver(tg.press(asked, f"nps:{fid}:9"))

    (edit,) = api.of("editMessageReplyMarkup")
    shown = api.message(str(CHAT), edit.params["message_id"])
    assert shown["text"] == asked["text"]  # the question stays; only its buttons change
    assert shown["reply_markup"] == {
        "inline_keyboard": [[{"text": "✓ 9", "callback_data": f"nps:{fid}:9"}]]
    }
    skip_question = api.last_message(str(CHAT))
    await stack.deliver(tg.press(skip_question, f"skip:{fid}"))
    csat_question = api.last_message(str(CHAT))
    await stack.deliver(tg.press(csat_question, f"csat:{fid}:4"))
    marked = [
        b["text"]
        for m in (skip_question, csat_question)
        for row in api.message(str(CHAT), m["message_id"])["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert marked == ["✓ Skip", "✓ 4 🙂"]
    assert await answers(db) == {"nps": (9, None), "csat": (4, None)}
    async with db.uow() as uow:
        lines = list(
            await uow.session.scalars(select(Message.text).where(Message.direction == "in"))
        )
    assert "[button] 9" in lines and "[button] Skip" in lines  # what the customer saw

    # The chosen button pressed again: a clear answer, no second score, no new edit.
    before = len(api.sent(str(CHAT)))
    await stack.deliver(tg.press(api.message(str(CHAT), edit.params["message_id"]), f"nps:{fid}:9"))
    assert "closed or was already answered" in api.texts(str(CHAT))[before]
    assert len(api.of("editMessageReplyMarkup")) == 3
    assert await answers(db) == {"nps": (9, None), "csat": (4, None)}


async def test_a_keyboard_the_server_cannot_edit_fails_alone_and_the_answer_goes_on(
    stack: BotStack, api: FakeBotApi, db: Database
) -> None:
    _, _, fid = await customer_with_delivered_order(db, chat_id=str(CHAT))
    await invite(stack, fid)
    # Pressed on a message the server does not hold (deleted, say): the edit is refused.
    await stack.deliver(tg.callback(CHAT, f"nps:{fid}:9"))

    assert len(api.of("editMessageReplyMarkup")) == 1  # refused once, not tried again
    async with db.uow() as uow:
        query = select(OutboxMessage).where(OutboxMessage.purpose == "keyboard")
        (row,) = (await uow.session.scalars(query)).all()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.failed_at is not None and "message to edit not found" in (row.error or "").lower()
    assert await answers(db) == {"nps": (9, None)}
    assert f"skip:{fid}" in api.sent(str(CHAT))[-1].callback_data  # the next question went


async def test_a_survey_answered_by_typing_is_recorded_the_same(
    stack: BotStack, api: FakeBotApi, db: Database
) -> None:
    _, _, fid = await customer_with_delivered_order(db, chat_id=str(CHAT))
    await invite(stack, fid)
    await stack.deliver(tg.message(CHAT, "10"))
    await stack.deliver(tg.message(CHAT, "great service"))
    await stack.deliver(tg.message(CHAT, "5"))
    assert await answers(db) == {"nps": (10, "great service"), "csat": (5, None)}
    async with db.uow() as uow:
        followup = await uow.session.get(FollowUp, fid)
    assert followup is not None and followup.status == "answered"


async def test_bad_input_is_reprompted_and_records_nothing(
    stack: BotStack, api: FakeBotApi, db: Database
) -> None:
    _, _, fid = await customer_with_delivered_order(db, chat_id=str(CHAT))
    await invite(stack, fid)
    before = len(api.sent(str(CHAT)))
    await stack.deliver(tg.sticker(CHAT))
    await stack.deliver(tg.photo(CHAT))
    await stack.deliver(tg.message(CHAT, "11"))
    await stack.deliver(tg.message(CHAT, "it was fine I guess"))
    replies = api.sent(str(CHAT))[before:]
    assert len(replies) == 4  # each one answered
    assert all(f"nps:{fid}:0" in r.callback_data for r in replies[2:])  # buttons again
    assert await answers(db) == {}


async def test_a_repeated_update_is_handled_once(
    stack: BotStack, api: FakeBotApi, db: Database
) -> None:
    _, _, fid = await customer_with_delivered_order(db, chat_id=str(CHAT))
    await invite(stack, fid)
    press = tg.callback(CHAT, f"nps:{fid}:10")
    press["update_id"] = api.next_update_id()
    before = len(api.sent(str(CHAT)))
    await stack.deliver(press, dict(press))  # Telegram sent it twice
    assert await answers(db) == {"nps": (10, None)}
    assert len(api.sent(str(CHAT))) == before + 1
    assert await count(db, Message, Message.direction == "in") == 1


async def test_an_edited_message_is_answered_that_edits_are_not_read(
    stack: BotStack, api: FakeBotApi, db: Database
) -> None:
    _, _, fid = await customer_with_delivered_order(db, chat_id=str(CHAT))
    await invite(stack, fid)
    await stack.deliver(tg.edited_message(CHAT, "9"))
    assert "edited" in api.texts(str(CHAT))[-1]
    assert await answers(db) == {}


# -- complaints ----------------------------------------------------------------------------


async def test_a_complaint_opens_a_ticket_and_tells_its_number(
    stack: BotStack, api: FakeBotApi, db: Database
) -> None:
    customer_id, _, _ = await customer_with_delivered_order(db, chat_id=str(CHAT))
    await stack.deliver(tg.message(CHAT, "/problem"))
    assert "cat:damaged" in api.sent(str(CHAT))[-1].callback_data
    await stack.deliver(tg.callback(CHAT, "cat:damaged"))
    await stack.deliver(tg.message(CHAT, "The mug arrived broken"))
    async with db.uow() as uow:
        ticket = await uow.session.scalar(select(Ticket))
    assert ticket is not None
    assert (ticket.customer_id, ticket.category, ticket.description) == (
        customer_id,
        "damaged",
        "The mug arrived broken",
    )
    assert f"#{ticket.id}" in api.texts(str(CHAT))[-1]


# -- what is not for us ---------------------------------------------------------------------


async def test_groups_channel_posts_and_unknown_kinds_are_ignored_without_errors(
    stack: BotStack, api: FakeBotApi, db: Database
) -> None:
    await stack.deliver(
        tg.group_message(-1001, 100, "hello everyone"),
        tg.channel_post(-1002, "news"),
        tg.unknown_kind(),
    )
    assert api.sent() == []
    assert await count(db, Conversation) == 0
    # the group message reached the engine (which ignores non-operator groups) ...
    assert await count(db, HandledUpdate) == 1


async def test_in_the_operators_group_a_command_for_another_bot_is_left_alone(
    api: FakeBotApi, db: Database, framework: str, clock: Clock
) -> None:
    stack = await make_stack(
        api, db, framework, clock, operator_ids=["900"], operator_chat_id="-500"
    ).start()
    try:
        await stack.deliver(tg.group_message(-500, 900, "/tickets@someone_elses_bot"))
        await stack.flush()
        assert api.sent("-500") == []
        await stack.deliver(tg.group_message(-500, 900, f"/tickets@{api.username}"))
        await stack.flush()
        assert api.texts("-500") == ["No open tickets."]
    finally:
        await stack.stop()


# -- restarts ---------------------------------------------------------------------------------


async def test_a_restart_mid_survey_continues_where_it_stood_and_loses_no_update(
    api: FakeBotApi, db: Database, framework: str, clock: Clock
) -> None:
    first = await make_stack(api, db, framework, clock).start()
    try:
        _, _, fid = await customer_with_delivered_order(db, chat_id=str(CHAT))
        await invite(first, fid)
        [press] = await first.deliver(tg.callback(CHAT, f"nps:{fid}:6"))
    finally:
        await first.stop()
    # the stop confirmed what was handled: nothing comes back to the next process
    assert api.confirmed() == press + 1
    assert api.pending() == []

    second = await make_stack(api, db, framework, clock).start()
    try:
        await second.deliver(tg.message(CHAT, "late"))
        await second.deliver(tg.callback(CHAT, f"csat:{fid}:3"))
    finally:
        await second.stop()
    assert await answers(db) == {"nps": (6, "late"), "csat": (3, None)}
    async with db.uow() as uow:
        tickets = (await uow.session.scalars(select(Ticket))).all()
    assert [t.source for t in tickets] == ["detractor"]
