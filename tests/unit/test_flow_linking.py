"""Linking a chat: deep-link tokens and shared contacts, as resolved by the engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.i18n import render
from flows import CommandIn, ContactIn, Facts, MediaIn, OptIn, State, TextIn, step
from flows.events import Event

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def answer(event: Event, facts: Facts, state: State | None = None) -> tuple[str, bool, State]:
    outcome = step(state or State(), event, facts, NOW)
    (reply, *_) = outcome.replies
    return reply.text, reply.request_contact, outcome.state


def test_a_fresh_link_welcomes_by_name_and_says_what_the_bot_does() -> None:
    text, contact, _ = answer(
        CommandIn("start", "tok"), Facts(True, customer_name="Ana", link="linked")
    )
    assert text.startswith("Welcome, {name}!") and "/problem" in text and not contact


@pytest.mark.parametrize(
    ("link", "words", "asks_phone"),
    [("already_linked", "already linked", False), ("used", "already used", True),
     ("unknown", "not valid", True)],
)  # fmt: skip
def test_token_outcomes_get_their_own_friendly_answer(
    link: str, words: str, asks_phone: bool
) -> None:
    text, contact, _ = answer(CommandIn("start", "tok"), Facts(link == "already_linked", link=link))
    assert words in text and contact is asks_phone


@pytest.mark.parametrize(
    ("link", "words"),
    [("linked", "now linked"), ("already_linked", "already linked"),
     ("no_match", "could not find"), ("not_own", "someone else's")],
)  # fmt: skip
def test_a_shared_contact_gets_a_clear_answer(link: str, words: str) -> None:
    text, _, _ = answer(ContactIn("+5511999990000", own=link != "not_own"),
                        Facts(link in ("linked", "already_linked"), link=link))  # fmt: skip
    assert words in text


def test_start_without_a_token_explains_and_offers_the_phone_button() -> None:
    text, contact, _ = answer(CommandIn("start"), Facts(False))
    assert "share your phone number" in text and contact


@pytest.mark.parametrize(
    "event", [TextIn("hello"), MediaIn("photo"), CommandIn("mydata"), CommandIn("forget")]
)
def test_an_unlinked_chat_is_told_how_to_link(event: Event) -> None:
    text, contact, state = answer(event, Facts(False))
    assert "not linked" in text and contact and state == State()


def test_help_and_language_work_before_linking() -> None:
    (help_reply,) = step(State(), CommandIn("help"), Facts(False), NOW).replies
    assert "/problem" in render(help_reply, "en").text
    assert answer(CommandIn("language"), Facts(False))[0] == "Choose your language:"


def test_start_after_opting_out_opts_back_in() -> None:
    outcome = step(State(), CommandIn("start"), Facts(True, opted_out=True), NOW)
    assert outcome.effects == (OptIn(),) and len(outcome.replies) == 2
