"""The survey's last question: after a CSAT of 1 or 2, what went wrong (skippable)."""

from __future__ import annotations

import pytest

from flows import (
    AskForReview,
    ButtonIn,
    CompleteSurvey,
    MediaIn,
    RecordReason,
    RecordScore,
    State,
    TextIn,
    remind_survey,
    start_survey,
)
from flows.events import Event
from tests.unit.test_flow_survey import FID, NOW, ORDER, button_data, run

THANKS = "Thank you for your answers! They help us improve."


def at_csat(nps: str = "9") -> State:
    state = start_survey(State(), FID, ORDER, NOW).state
    state, _ = run(state, TextIn(nps), ButtonIn(f"skip:{FID}"))
    assert state.state == "csat"
    return state


@pytest.mark.parametrize("low", [ButtonIn(f"csat:{FID}:1"), ButtonIn(f"csat:{FID}:2"), TextIn("2")])
def test_a_low_csat_is_recorded_completes_the_survey_and_asks_what_went_wrong(low: Event) -> None:
    state, (outcome,) = run(at_csat(), low)
    score = 1 if isinstance(low, ButtonIn) and low.data.endswith(":1") else 2
    assert outcome.effects == (RecordScore("csat", score, FID), CompleteSurvey(FID))
    assert state.flow == "survey" and state.state == "csat_comment"
    assert "What went wrong?" in outcome.replies[-1].text
    assert button_data(outcome) == [f"cskip:{FID}"]


def test_the_comment_is_recorded_on_the_csat_answer_and_thanked() -> None:
    state, (_, outcome) = run(at_csat(), ButtonIn(f"csat:{FID}:1"), TextIn("  box arrived wet  "))
    assert outcome.effects == (RecordReason(FID, "box arrived wet", kind="csat"),)
    assert outcome.replies[-1].text == THANKS
    assert state == State()


def test_skipping_the_comment_records_nothing_more_and_ends_the_survey() -> None:
    state, (_, outcome) = run(at_csat(), ButtonIn(f"csat:{FID}:2"), ButtonIn(f"cskip:{FID}"))
    assert outcome.effects == ()
    assert outcome.replies[-1].text == THANKS
    assert state == State()


def test_a_promoter_with_a_low_csat_is_not_asked_for_a_review() -> None:
    _, outcomes = run(at_csat("10"), ButtonIn(f"csat:{FID}:1"), TextIn("late"))
    assert not [e for o in outcomes for e in o.effects if isinstance(e, AskForReview)]


def test_a_csat_of_3_or_more_asks_nothing_more() -> None:
    state, (outcome,) = run(at_csat(), ButtonIn(f"csat:{FID}:3"))
    assert state == State()
    assert outcome.replies[-1].text == THANKS


@pytest.mark.parametrize(
    "bad",
    [MediaIn("photo"), TextIn("   "), ButtonIn(f"skip:{FID}"), ButtonIn(f"csat:{FID}:4")],
)
def test_anything_but_text_or_its_skip_keeps_the_question_and_records_nothing(bad: Event) -> None:
    """The reason's Skip (an older message) and a second CSAT press do not end it."""
    state, (_, outcome) = run(at_csat(), ButtonIn(f"csat:{FID}:1"), bad)
    assert outcome.effects == ()
    assert state.state == "csat_comment"
    assert f"cskip:{FID}" in button_data(outcome)


def test_the_skip_of_another_survey_is_closed_and_a_reminder_repeats_the_question() -> None:
    state, (_, outcome) = run(at_csat(), ButtonIn(f"csat:{FID}:1"), ButtonIn(f"cskip:{FID + 1}"))
    assert outcome.effects == () and "closed" in outcome.replies[0].text
    assert state.state == "csat_comment"
    reminder = remind_survey(state, FID, NOW)
    assert f"cskip:{FID}" in button_data(reminder)
