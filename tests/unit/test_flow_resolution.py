"""After an operator resolves a ticket: solved? yes closes and rates, no reopens."""

from __future__ import annotations

from datetime import UTC, datetime

from flows import (
    AddToTicket,
    ButtonIn,
    CloseTicket,
    Facts,
    MediaIn,
    Outcome,
    RateTicket,
    RecordScore,
    ReopenTicket,
    State,
    TextIn,
    ask_resolution,
    start_survey,
    step,
)
from flows.events import Event
from flows.state import OrderRef

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
FACTS = Facts(linked=True)


def run(state: State, *events: Event, facts: Facts = FACTS) -> tuple[State, list[Outcome]]:
    outcomes = []
    for event in events:
        outcomes.append(step(state, event, facts, NOW))
        state = outcomes[-1].state
    return state, outcomes


def asked(ticket: int = 7) -> State:
    return ask_resolution(State(), ticket, NOW).state


def test_the_question_offers_yes_and_no_for_that_ticket() -> None:
    outcome = ask_resolution(State(), 7, NOW)
    data = [b.data for say in outcome.replies for row in say.buttons for b in row]
    assert data == ["res:7:yes", "res:7:no"]


def test_yes_closes_the_ticket_then_a_rating_is_recorded() -> None:
    state, outcomes = run(asked(), ButtonIn("res:7:yes"), ButtonIn("rate:7:4"))
    assert [e for o in outcomes for e in o.effects] == [CloseTicket(7), RateTicket(7, 4)]
    assert state == State()


def test_a_typed_rating_is_accepted() -> None:
    _, outcomes = run(asked(), ButtonIn("res:7:yes"), TextIn(" 5 "))
    assert outcomes[-1].effects == (RateTicket(7, 5),)


def test_no_reopens_the_ticket() -> None:
    state, (outcome,) = run(asked(), ButtonIn("res:7:no"))
    assert outcome.effects == (ReopenTicket(7),) and state == State()


def test_the_rating_is_optional_other_words_go_to_the_open_ticket() -> None:
    state, outcomes = run(
        asked(), ButtonIn("res:7:yes"), TextIn("thanks a lot!"), facts=Facts(True, active_ticket=9)
    )
    assert outcomes[-1].effects == (AddToTicket(9, "thanks a lot!"),)
    assert state == State()


def test_anything_but_a_button_is_reprompted_while_the_question_is_open() -> None:
    state, outcomes = run(asked(), TextIn("hmm"), MediaIn("photo"), ButtonIn("res:7:maybe"))
    assert state == asked()
    assert not any(o.effects for o in outcomes)
    assert all(o.replies for o in outcomes)


def test_pressing_yes_twice_closes_once() -> None:
    _, outcomes = run(asked(), ButtonIn("res:7:yes"), ButtonIn("res:7:yes"))
    assert [e for o in outcomes for e in o.effects] == [CloseTicket(7)]
    assert outcomes[1].replies[0].text == "You have already answered this question."


def test_buttons_of_another_ticket_or_after_the_end_record_nothing() -> None:
    _, (other,) = run(asked(), ButtonIn("res:8:yes"))
    assert other.effects == () and "closed" in other.replies[0].text
    done, _ = run(asked(), ButtonIn("res:7:no"))
    _, (late,) = run(done, ButtonIn("rate:7:5"))
    assert late.effects == () and "closed" in late.replies[0].text


def test_a_resolution_question_during_a_survey_resumes_the_survey_after() -> None:
    survey = start_survey(State(), 5, OrderRef(1, "#1"), NOW).state
    state = ask_resolution(survey, 7, NOW).state
    state, outcomes = run(state, ButtonIn("res:7:no"), ButtonIn("nps:5:10"))
    assert outcomes[-1].effects == (RecordScore("nps", 10, 5),)
    assert state.flow == "survey"
