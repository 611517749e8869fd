"""Customer commands: /help, /language, /stop, /mydata, /forget; unknown ones and edits."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.i18n import LOCALES, render
from flows import (
    ButtonIn,
    CommandIn,
    ExportMyData,
    Facts,
    ForgetMe,
    MediaIn,
    OptOut,
    OrderRef,
    SetLocale,
    State,
    TextIn,
    start_survey,
    step,
)

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
FACTS = Facts(linked=True)
SURVEY = start_survey(State(), 5, OrderRef(1, "#1"), NOW).state


def test_help_lists_every_customer_command() -> None:
    (reply,) = step(State(), CommandIn("help"), FACTS, NOW).replies
    for locale in LOCALES:
        text = render(reply, locale).text
        for command in ("/problem", "/language", "/stop", "/mydata", "/forget", "/help"):
            assert command in text
    assert render(reply, "en").text == (
        "Here is what I can do:\n"
        "/problem - report a problem with an order\n"
        "/language - choose your language\n"
        "/stop - stop receiving surveys and reminders\n"
        "/mydata - get a copy of the data we keep about you\n"
        "/forget - delete your data\n"
        "/help - show this list"
    )


def test_language_offers_the_four_locales_and_a_press_sets_one() -> None:
    (menu,) = step(State(), CommandIn("language"), FACTS, NOW).replies
    assert [b.data for row in menu.buttons for b in row] == [
        "lang:pt-BR", "lang:en", "lang:es", "lang:ca",
    ]  # fmt: skip
    assert step(SURVEY, ButtonIn("lang:ca"), FACTS, NOW).effects == (SetLocale("ca"),)
    unknown = step(State(), ButtonIn("lang:de"), FACTS, NOW)
    assert unknown.effects == () and unknown.replies[0].text == "Choose your language:"


def test_stop_opts_out_ends_the_survey_and_says_how_to_undo() -> None:
    outcome = step(SURVEY, CommandIn("stop"), FACTS, NOW)
    assert outcome.effects == (OptOut(),) and outcome.state == State()
    assert "/start" in outcome.replies[0].text


def test_the_stop_word_typed_alone_opts_out_in_every_language_and_a_sentence_does_not() -> None:
    for typed in ("STOP", "Parar", "pare.", "sair", "baja!", " Prou "):
        outcome = step(SURVEY, TextIn(typed), FACTS, NOW)
        assert outcome.effects == (OptOut(),), typed
    kept = step(SURVEY, TextIn("please do not stop the delivery"), FACTS, NOW)
    assert OptOut() not in kept.effects


def test_mydata_exports_and_keeps_the_conversation_where_it_was() -> None:
    outcome = step(SURVEY, CommandIn("mydata"), FACTS, NOW)
    assert outcome.effects == (ExportMyData(),) and outcome.state == SURVEY


def test_forget_asks_first_and_deletes_only_on_yes() -> None:
    asked = step(State(), CommandIn("forget"), FACTS, NOW)
    assert asked.effects == ()
    assert [b.data for s in asked.replies for row in s.buttons for b in row] == [
        "forget:yes", "forget:no",
    ]  # fmt: skip
    yes = step(asked.state, ButtonIn("forget:yes"), FACTS, NOW)
    assert yes.effects == (ForgetMe(),) and yes.state == State()


def test_forget_declined_deletes_nothing_and_resumes_a_survey() -> None:
    asked = step(SURVEY, CommandIn("forget"), FACTS, NOW)
    no = step(asked.state, ButtonIn("forget:no"), FACTS, NOW)
    assert no.effects == () and no.state == SURVEY


def test_forget_confirmation_repeats_the_question_for_other_input() -> None:
    asked = step(State(), CommandIn("forget"), FACTS, NOW).state
    again = step(asked, TextIn("what?"), FACTS, NOW)
    assert again.state == asked and again.effects == ()


def test_a_stale_forget_button_deletes_nothing() -> None:
    outcome = step(State(), ButtonIn("forget:yes"), FACTS, NOW)
    assert outcome.effects == () and outcome.replies[0].text == "This button is no longer valid."


def test_an_unknown_command_gets_a_hint_and_keeps_the_survey() -> None:
    outcome = step(SURVEY, CommandIn("kpi"), FACTS, NOW)
    assert "/help" in outcome.replies[0].text and outcome.state == SURVEY


def test_an_edited_message_is_not_read() -> None:
    outcome = step(SURVEY, MediaIn("edited"), FACTS, NOW)
    assert "edited" in outcome.replies[0].text and outcome.effects == ()
    assert outcome.state == SURVEY
