"""The flows' registry: every command and button is declared once, and /help and the
command menu are generated from those declarations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.i18n import LOCALES, render
from flows import ButtonIn, CommandIn, Facts, State, needs_orders, step
from flows.menu import CUSTOMER_COMMANDS
from flows.registry import BUTTONS, COMMANDS, FLOWS, help_text

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_listed_command_appears_in_the_generated_help(locale: str) -> None:
    text = render(help_text(), locale).text
    listed = [name for name, command in COMMANDS.items() if command.help]
    assert listed and all(f"/{name} " in text for name in listed)
    assert text.splitlines()[-1].startswith("/help ")


def test_every_menu_command_is_registered_and_answers_a_linked_customer() -> None:
    assert [name for name, _ in CUSTOMER_COMMANDS] == [
        "start", "problem", "help", "language", "stop", "mydata", "forget",
    ]  # fmt: skip
    unknown = step(State(), CommandIn("nosuchcommand"), Facts(True), NOW).replies[0].text
    for name, _ in CUSTOMER_COMMANDS:
        assert name in COMMANDS
        replies = step(State(), CommandIn(name), Facts(True), NOW).replies
        assert replies and replies[0].text != unknown


def test_every_registered_command_is_in_the_menu_or_the_help() -> None:
    assert all(c.menu or c.help for c in COMMANDS.values())


def test_a_button_of_a_flow_pressed_elsewhere_gets_an_answer_not_the_flow() -> None:
    owned = [route for route in BUTTONS.values() if route.owner is not None]
    assert {route.owner for route in owned} <= set(FLOWS)
    for route in owned:
        data = {"nps": "nps:1:9", "csat": "csat:1:5", "skip": "skip:1"}.get(route.kind)
        data = data or {"res": "res:1:yes", "rate": "rate:1:5"}.get(route.kind, f"{route.kind}:x")
        outcome = step(State(), ButtonIn(data), Facts(True), NOW)
        assert outcome.state == State() and outcome.effects == ()
        assert "valid" in outcome.replies[0].text or "closed" in outcome.replies[0].text


def test_orders_are_read_only_where_a_flow_declares_it() -> None:
    needing = {name for name, spec in FLOWS.items() if spec.needs_orders}
    assert needing == {"complaint"}
    for name, spec in FLOWS.items():
        for state in spec.states:
            assert needs_orders(State(name, state)) is (name in needing)
            resumed = {"resume": {"flow": name, "state": state, "data": {}}}
            assert needs_orders(State("account", "confirm_forget", resumed)) is (name in needing)
