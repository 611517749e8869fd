"""Outgoing messages through both adapters: keyboards, files, and errors made neutral."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.port import (
    Forbidden,
    Incoming,
    OutButton,
    Outgoing,
    Rejected,
    RetryAfter,
    Transient,
)
from bot.channels.telegram.aiogram_channel import AiogramChannel
from bot.channels.telegram.factory import TelegramChannel, build_telegram_channel
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.telegram_stack import telegram_settings

CHAT = "4242"


async def ignore(incoming: Incoming) -> None:
    return None


@pytest.fixture(params=["aiogram", "ptb"])
async def started(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[FakeBotApi, TelegramChannel]]:
    api = FakeBotApi()
    url = await api.start()
    channel = build_telegram_channel(
        telegram_settings(url, request.param), ignore, poll_timeout=5.0
    )
    await channel.start()
    try:
        yield api, channel
    finally:
        await channel.stop()
        await channel.close()
        await api.close()


async def test_inline_buttons_carry_their_callback_data(
    started: tuple[FakeBotApi, TelegramChannel],
) -> None:
    api, channel = started
    buttons = ((OutButton("0", "nps:1:0"), OutButton("1", "nps:1:1")), (OutButton("Skip", "s"),))
    remote_id = await channel.send(Outgoing(CHAT, "How likely...?", buttons=buttons))
    [call] = api.sent(CHAT)
    assert call.text == "How likely...?"
    assert call.callback_data == ["nps:1:0", "nps:1:1", "s"]
    assert [len(row) for row in call.markup["inline_keyboard"]] == [2, 1]
    # The id is the one the server gave the message (it numbers them in order).
    next_id = await channel.send(Outgoing(CHAT, "Thanks!"))
    assert remote_id.isdigit() and int(next_id) == int(remote_id) + 1


async def test_callback_data_over_64_bytes_is_rejected_before_any_request(
    started: tuple[FakeBotApi, TelegramChannel],
) -> None:
    api, channel = started
    too_long = "x" * 62 + "çç"  # 64 characters, 66 bytes
    with pytest.raises(Rejected, match="66 bytes"):
        await channel.send(Outgoing(CHAT, "hi", buttons=((OutButton("a", too_long),),)))
    assert api.sent() == []


async def test_the_contact_keyboard_and_its_removal(
    started: tuple[FakeBotApi, TelegramChannel],
) -> None:
    api, channel = started
    await channel.send(
        Outgoing(CHAT, "Share?", request_contact=True, contact_label="Compartilhar meu número")
    )
    await channel.send(Outgoing(CHAT, "Thanks", remove_keyboard=True))
    asked, removed = api.sent(CHAT)
    assert asked.markup["keyboard"] == [
        [{"text": "Compartilhar meu número", "request_contact": True}]
    ]
    assert asked.markup["one_time_keyboard"] is True
    assert removed.markup == {"remove_keyboard": True}


PNG = b"\x89PNG fake image"


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    path = tmp_path / "chart.png"
    path.write_bytes(PNG)
    return path


async def test_photos_and_documents_are_uploaded(
    started: tuple[FakeBotApi, TelegramChannel], tmp_path: Path, chart: Path
) -> None:
    api, channel = started
    export = tmp_path / "export.jsonl"
    export.write_bytes(b'{"a": 1}\n')
    await channel.send(Outgoing(CHAT, "NPS by week", photo_path=str(chart)))
    await channel.send(
        Outgoing(CHAT, "Your data", document_path=str(export), document_name="my-data.jsonl")
    )
    photo, document = api.sent(CHAT)
    assert (photo.method, photo.text, photo.files["photo"][1]) == ("sendPhoto", "NPS by week", PNG)
    assert document.method == "sendDocument"
    assert document.files["document"] == ("my-data.jsonl", b'{"a": 1}\n')


async def test_a_photo_keeps_its_buttons_and_a_text_too_long_for_a_caption_follows_it(
    started: tuple[FakeBotApi, TelegramChannel], chart: Path
) -> None:
    api, channel = started
    buttons = ((OutButton("More", "kpi:more"),),)
    await channel.send(Outgoing(CHAT, "NPS by week", buttons=buttons, photo_path=str(chart)))
    long_text = "x" * 1500  # captions hold 1,024 characters
    await channel.send(Outgoing(CHAT, long_text, buttons=buttons, photo_path=str(chart)))
    captioned, uncaptioned, text = api.sent(CHAT)
    assert (captioned.method, captioned.text, captioned.callback_data) == (
        "sendPhoto",
        "NPS by week",
        ["kpi:more"],
    )
    assert (uncaptioned.method, uncaptioned.text, uncaptioned.markup) == ("sendPhoto", "", {})
    assert (text.method, text.text, text.callback_data) == ("sendMessage", long_text, ["kpi:more"])


@pytest.mark.parametrize(
    ("status", "description", "retry_after", "expected"),
    [
        (429, "Too Many Requests: retry after 7", 7, RetryAfter),
        (403, "Forbidden: bot was blocked by the user", None, Forbidden),
        (400, "Bad Request: chat not found", None, Rejected),
        (500, "Internal Server Error", None, Transient),
        (502, "Bad Gateway", None, Transient),
    ],
)
async def test_api_errors_become_the_neutral_errors(
    started: tuple[FakeBotApi, TelegramChannel],
    status: int,
    description: str,
    retry_after: int | None,
    expected: type[Exception],
) -> None:
    api, channel = started
    api.fail("sendMessage", status, description, retry_after=retry_after)
    with pytest.raises(expected) as caught:
        await channel.send(Outgoing(CHAT, "hi"))
    if isinstance(caught.value, RetryAfter):
        assert caught.value.seconds == 7.0
    await channel.send(Outgoing(CHAT, "hi"))  # the next one goes through


async def test_answering_a_callback_query(started: tuple[FakeBotApi, TelegramChannel]) -> None:
    api, channel = started
    await channel.answer_callback("cq-1")
    await channel.answer_callback("cq-2", text="Saved")
    answered = [
        (c.params["callback_query_id"], c.params.get("text")) for c in api.of("answerCallbackQuery")
    ]
    assert answered == [("cq-1", None), ("cq-2", "Saved")]


async def test_an_aiogram_request_left_unanswered_times_out_as_transient() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client hangs up

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    channel = build_telegram_channel(
        telegram_settings(f"http://127.0.0.1:{port}", "aiogram"), ignore
    )
    assert isinstance(channel, AiogramChannel)
    channel.bot.session.timeout = 0.3
    try:
        for send in (
            lambda: channel.send(Outgoing(CHAT, "hi", buttons=((OutButton("1", "d"),),))),
            lambda: channel.answer_callback("cq-1"),
        ):
            with pytest.raises(Transient, match="timeout"):
                await send()
    finally:
        await channel.close()
        server.close()


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_an_unreachable_server_is_a_transient_error(framework: str) -> None:
    api = FakeBotApi()
    url = await api.start()
    channel = build_telegram_channel(telegram_settings(url, framework), ignore)
    try:
        await channel.start()
        await api.close()  # the server goes away
        with pytest.raises(Transient):
            await channel.send(Outgoing(CHAT, "hi"))
    finally:
        await channel.stop()
        await channel.close()


@pytest.mark.parametrize(
    ("operator_channel", "menu_in_group"), [("telegram", True), ("console", False)]
)
async def test_the_operators_group_gets_a_menu_only_when_operators_are_on_telegram(
    operator_channel: str, menu_in_group: bool
) -> None:
    api = FakeBotApi()
    url = await api.start()
    settings = telegram_settings(
        url, "aiogram", operator_chat_id="-100555", operator_channel=operator_channel
    )
    channel = build_telegram_channel(settings, ignore)
    try:
        await channel.open()
        await channel.publish_menu()
    finally:
        await channel.close()
        await api.close()
    scoped = {(c.params.get("scope") or {}).get("chat_id") for c in api.of("setMyCommands")}
    assert (-100555 in scoped) is menu_in_group
