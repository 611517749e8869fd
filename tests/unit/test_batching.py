"""Which updates may share a PostgreSQL batch, and the order a batch locks its chats in."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.engine.batching import Batching
from bot.settings import Settings
from flows.events import ButtonIn, CommandIn, Event, TextIn
from tests.builders import incoming


def batching(*, ordered: bool = False) -> Batching:
    settings = Settings(_env_file=None, operator_chat_id="-500")  # type: ignore[call-arg]
    return Batching(settings, ordered=ordered)


@pytest.mark.parametrize(
    ("event", "alone"),
    [
        (TextIn("where is my order"), False),
        (ButtonIn("nps:3:8"), False),
        (CommandIn("reply", "12 on its way"), True),  # may lock customer 12's chat
        (CommandIn("start", ""), True),  # any command may be a staff one
        (ButtonIn("op:resolve:12"), True),
    ],
)
def test_commands_and_op_buttons_on_the_staff_channel_go_alone(event: Event, alone: bool) -> None:
    assert batching().alone(incoming(event, "-500", chat_type="group")) is alone
    assert batching().alone(incoming(event, "42")) is alone


def test_the_same_command_on_another_channel_is_a_customer_update() -> None:
    on_whatsapp = replace(incoming(CommandIn("reply", "12 hi"), "5511"), channel="whatsapp")
    assert batching().alone(on_whatsapp) is False


def test_in_webhook_order_sequenced_updates_go_alone_and_the_others_are_batched() -> None:
    ordered = batching(ordered=True)
    assert ordered.alone(incoming(TextIn("hi"), "42", update_id="80001")) is True
    whatsapp = replace(incoming(TextIn("hi"), "5511", update_id="wamid.HBg"), channel="whatsapp")
    assert ordered.alone(whatsapp) is False
    assert batching().alone(incoming(TextIn("hi"), "42", update_id="80001")) is False


def test_a_batch_is_taken_in_channel_then_chat_order() -> None:
    updates = [
        replace(incoming(TextIn("x"), "9"), channel="whatsapp"),
        incoming(TextIn("x"), "20"),
        incoming(TextIn("x"), "100"),
        replace(incoming(TextIn("x"), "1"), channel="whatsapp"),
    ]
    taken = Batching.in_lock_order(lambda: list(updates))()
    assert [(u.channel, u.chat_id) for u in taken] == [
        ("telegram", "100"),
        ("telegram", "20"),
        ("whatsapp", "1"),
        ("whatsapp", "9"),
    ]
