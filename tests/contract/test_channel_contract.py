"""The channel contract: every channel (console, aiogram, python-telegram-bot, WhatsApp)
passes it.

Each test runs once per harness (``tests/contract/harnesses.py``); the Telegram ones
are the real libraries polling the fake Bot API server over loopback HTTP. A channel
that lacks a capability skips the test of it, and says so in its declaration.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import Database
from bot.channels.port import (
    Capabilities,
    ConversationKey,
    Forbidden,
    HttpRequest,
    HttpResponse,
    OutButton,
    Outgoing,
    Rejected,
    RetryAfter,
    Transient,
)
from bot.delivery.outgoing import fit
from bot.delivery.sender import OutboxSender
from bot.settings import Settings
from flows.events import ButtonIn, CommandIn, TextIn
from storage.outbox import enqueue
from storage.outbox_body import BodyButton, OutboxBody
from tests.builders import T0
from tests.contract.harnesses import Harness


async def eventually(condition: Callable[[], bool], tries: int = 500) -> None:
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")


def labels(rows: list[list[str]] | tuple[tuple[OutButton, ...], ...]) -> list[str]:
    return [b if isinstance(b, str) else b.text for row in rows for b in row]


# -- what a channel declares ------------------------------------------------------------


async def test_a_channel_declares_its_name_limits_and_capabilities(harness: Harness) -> None:
    channel = harness.channel
    assert channel.name == harness.name
    assert 0 < channel.limits.per_chat_rate <= channel.limits.global_rate
    can = channel.capabilities
    assert isinstance(can, Capabilities)
    assert 1 <= can.buttons_per_row <= can.buttons_per_message
    # Answering presses is a capability: declared exactly when the channel can do it.
    assert can.acknowledges_presses == callable(getattr(channel, "acknowledge", None))
    # It receives through a poller of its own or through HTTP routes.
    polls = callable(getattr(channel, "start", None)) and callable(getattr(channel, "stop", None))
    assert polls or callable(getattr(channel, "routes", None))


async def test_a_channels_routes_are_well_formed_and_refuse_a_stranger(harness: Harness) -> None:
    routed = harness.routed()
    if routed is None:
        pytest.skip(f"{harness.name} has no HTTP routes")
    routes = routed.routes()
    assert routes, "a channel set up for HTTP declares its routes"
    assert len({(r.method, r.path) for r in routes}) == len(routes)
    for route in routes:
        assert route.method in ("GET", "POST") and route.path.startswith("/")
        # No secret, no signature, no verify token: refused, and nothing handed over.
        answer = await route.handle(HttpRequest(route.method, route.path, body=b"{}"))
        assert isinstance(answer, HttpResponse) and 400 <= answer.status < 500
    assert harness.received == []


async def test_a_channel_says_which_of_its_chats_are_groups(harness: Harness) -> None:
    assert not harness.channel.is_group(harness.chat)
    if harness.group_chat is not None:
        assert harness.channel.is_group(harness.group_chat)


# -- receiving --------------------------------------------------------------------------


async def test_typed_text_becomes_an_incoming_of_its_chat_and_person(harness: Harness) -> None:
    await harness.type_text("hello there")
    got = await harness.next_incoming()
    assert (got.channel, got.chat_id, got.user_id) == (harness.name, harness.chat, harness.user)
    assert got.chat_type == "private"
    assert got.event == TextIn("hello there")
    assert got.key == ConversationKey(harness.name, harness.chat)


async def test_each_update_has_an_id_of_its_own_for_the_duplicate_check(
    harness: Harness,
) -> None:
    await harness.type_text("one")
    await harness.type_text("/help")
    first, second = await harness.next_incoming(), await harness.next_incoming()
    assert second.event == CommandIn("help", "")
    assert first.update_id and second.update_id and first.update_id != second.update_id


async def test_a_button_press_becomes_its_data_with_the_label_the_person_saw(
    harness: Harness,
) -> None:
    await harness.press("Yes, solved", "res:7:yes")
    got = await harness.next_incoming()
    assert got.event == ButtonIn("res:7:yes")
    assert got.button_label == "Yes, solved"
    assert got.chat_id == harness.chat


async def test_media_and_edits_become_the_neutral_events(harness: Harness) -> None:
    media = await harness.send_media()
    assert (await harness.next_incoming()).event == media
    edited = await harness.edit_message()
    if edited is not None:
        assert (await harness.next_incoming()).event == edited


async def test_a_press_is_acknowledged_when_the_channel_answers_presses(
    harness: Harness,
) -> None:
    if not harness.channel.capabilities.acknowledges_presses:
        pytest.skip(f"{harness.name} does not answer presses")
    await harness.press("9", "nps:1:9")
    got = await harness.next_incoming()
    await eventually(lambda: got.callback_id in harness.acknowledged())  # the channel's own
    await harness.channel.acknowledge(replace(got, callback_id="cq-again"))  # type: ignore[attr-defined]
    assert "cq-again" in harness.acknowledged()


async def test_after_stop_no_update_is_taken(harness: Harness) -> None:
    await harness.type_text("before")
    assert (await harness.next_incoming()).event == TextIn("before")
    async with asyncio.timeout(15):
        await harness.channel.stop()  # type: ignore[attr-defined]
    await harness.type_text("after")
    with pytest.raises(TimeoutError):
        await harness.next_incoming(within=1.5)


# -- sending ----------------------------------------------------------------------------


async def test_a_text_reaches_the_chat(harness: Harness) -> None:
    remote_id = await harness.channel.send(Outgoing(harness.chat, "Your order is on its way"))
    assert remote_id
    assert [s.text for s in harness.shown()] == ["Your order is on its way"]


async def test_buttons_reach_the_chat_as_wide_as_the_channel_declares(harness: Harness) -> None:
    can = harness.channel.capabilities
    width = min(can.buttons_per_row, 6)
    rows = min(can.buttons_per_message // width, 2)
    keyboard = tuple(
        tuple(OutButton(f"{r}.{c}", f"pick:{r}:{c}") for c in range(width)) for r in range(rows)
    )
    await harness.channel.send(Outgoing(harness.chat, "Pick one", buttons=keyboard))
    [shown] = harness.shown()
    assert shown.text == "Pick one"
    assert labels(shown.buttons) == labels(keyboard)
    assert all(len(row) <= can.buttons_per_row for row in shown.buttons)


async def test_rows_wider_than_declared_are_wrapped_and_too_many_buttons_refused(
    harness: Harness,
) -> None:
    can = harness.channel.capabilities
    too_many = tuple(OutButton(str(n), f"n:{n}") for n in range(can.buttons_per_message + 1))
    with pytest.raises(Rejected):
        fit(Outgoing(harness.chat, "Pick", buttons=(too_many,)), can)
    wide = too_many[: can.buttons_per_row + 1]
    if len(wide) > can.buttons_per_message:
        return  # one row may hold every button the channel shows: nothing to wrap
    await harness.channel.send(fit(Outgoing(harness.chat, "Pick", buttons=(wide,)), can))
    [shown] = harness.shown()
    assert labels(shown.buttons) == labels((wide,))
    assert len(shown.buttons) == 2


async def test_a_document_reaches_the_chat_with_its_name(harness: Harness, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("{}", encoding="utf-8")
    message = Outgoing(
        harness.chat, "Your data", document_path=str(path), document_name="report.json"
    )
    assert await harness.channel.send(message)
    assert "report.json" in [s.file for s in harness.shown()]
    assert "Your data" in [s.text for s in harness.shown()]


async def test_a_sent_messages_buttons_are_replaced_where_the_channel_edits(
    harness: Harness,
) -> None:
    if not harness.channel.capabilities.edits_buttons:
        pytest.skip(f"{harness.name} cannot edit a sent message's buttons")
    scores = ((OutButton("8", "nps:1:8"), OutButton("9", "nps:1:9")),)
    sent = await harness.channel.send(Outgoing(harness.chat, "How likely?", buttons=scores))
    chosen = ((OutButton("✓ 9", "nps:1:9"),),)
    await harness.channel.send(Outgoing(harness.chat, "", buttons=chosen, edit_message_id=sent))
    [shown] = harness.shown()  # the same message, not a new one
    assert (shown.text, shown.buttons) == ("How likely?", [["✓ 9"]])


@pytest.mark.parametrize(
    ("status", "expected"),
    [(429, RetryAfter), (403, Forbidden), (500, Transient), (400, Rejected)],
)
async def test_a_servers_refusal_becomes_the_neutral_send_error(
    harness: Harness, status: int, expected: type[Exception]
) -> None:
    if not harness.has_server:
        pytest.skip(f"{harness.name} has no server to refuse a send")
    harness.fail_next_send(status, retry_after=3 if status == 429 else None)
    with pytest.raises(expected) as caught:
        await harness.channel.send(Outgoing(harness.chat, "hi"))
    if isinstance(caught.value, RetryAfter):
        # The server's own wait where it gives one (Telegram); else the channel's
        assert caught.value.seconds == 3.0 if harness.server_says_wait else caught.value.seconds > 0
    assert await harness.channel.send(Outgoing(harness.chat, "hi"))  # the next one goes


async def test_the_outbox_sender_delivers_a_queued_row_through_the_channel(
    harness: Harness, sqlite_db: Database
) -> None:
    body = OutboxBody(text="Queued for you", buttons=((BodyButton("OK", "ok:1"),),))
    async with sqlite_db.uow() as uow:
        await enqueue(
            uow.session,
            channel=harness.name,
            chat_id=harness.chat,
            body=body,
            purpose="reply",
            now=T0,
        )
        await uow.commit()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    sender = OutboxSender(sqlite_db, {harness.name: harness.channel}, settings, lambda: T0)
    async with asyncio.timeout(15):
        await sender.run(until_idle=True)
    assert sender.stats.sent == 1
    [shown] = harness.shown()
    assert (shown.text, labels(shown.buttons)) == ("Queued for you", ["OK"])
