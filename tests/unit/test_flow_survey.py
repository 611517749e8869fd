"""The survey flow: NPS, reason, CSAT; splits, bad input, stale and repeated buttons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows import (
    AskForReview,
    ButtonIn,
    CommandIn,
    CompleteSurvey,
    Facts,
    MediaIn,
    OpenTicket,
    OrderRef,
    Outcome,
    RecordReason,
    RecordScore,
    State,
    TextIn,
    expire_survey,
    remind_survey,
    start_survey,
    step,
)
from flows.events import Event

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
ORDER = OrderRef(31, "#A31 (08/03)")
FACTS = Facts(linked=True, customer_name="Ana", orders=(ORDER,))
FID = 7


def invited() -> State:
    return start_survey(State(), FID, ORDER, NOW).state


def run(state: State, *events: Event, facts: Facts = FACTS) -> tuple[State, list[Outcome]]:
    outcomes = []
    for event in events:
        outcome = step(state, event, facts, NOW)
        outcomes.append(outcome)
        state = outcome.state
    return state, outcomes


def effects(outcomes: list[Outcome]) -> list[object]:
    return [e for o in outcomes for e in o.effects]


def button_data(outcome: Outcome) -> list[str]:
    return [b.data for say in outcome.replies for row in say.buttons for b in row]


def test_the_invitation_offers_0_to_10_in_two_rows_carrying_the_followup_id() -> None:
    outcome = start_survey(State(), FID, ORDER, NOW)
    (invitation,) = outcome.replies
    assert [[b.label for b in row] for row in invitation.buttons] == [
        ["0", "1", "2", "3", "4", "5"],
        ["6", "7", "8", "9", "10"],
    ]
    assert button_data(outcome)[0] == f"nps:{FID}:0"
    assert dict(invitation.params)["order"] == ORDER.label
    assert (outcome.state.flow, outcome.state.state) == ("survey", "nps")


def test_a_passive_answer_by_buttons_records_nps_reason_csat_and_completes() -> None:
    state, outcomes = run(
        invited(),
        ButtonIn(f"nps:{FID}:8"),
        TextIn("  fast delivery "),
        ButtonIn(f"csat:{FID}:4"),
    )
    assert effects(outcomes) == [
        RecordScore("nps", 8, FID),
        RecordReason(FID, "fast delivery"),
        RecordScore("csat", 4, FID),
        CompleteSurvey(FID),
    ]
    assert state == State()
    assert f"csat:{FID}:5" in button_data(outcomes[1])


@pytest.mark.parametrize(
    ("score", "detractor", "promoter"),
    [
        (0, True, False),
        (6, True, False),
        (7, False, False),
        (8, False, False),
        (9, False, True),
        (10, False, True),
    ],
)
def test_the_nps_split_decides_ticket_and_review_request(
    score: int, detractor: bool, promoter: bool
) -> None:
    _, outcomes = run(
        invited(), ButtonIn(f"nps:{FID}:{score}"), TextIn("why"), ButtonIn(f"csat:{FID}:3")
    )
    tickets = [e for e in effects(outcomes) if isinstance(e, OpenTicket)]
    assert tickets == ([OpenTicket("detractor", "detractor", ORDER.id, "why")] if detractor else [])
    if detractor:
        told = [s for s in outcomes[1].replies if ("n", "$ticket") in s.params]
        assert told, "the detractor is told the ticket number"
    review = [e for e in outcomes[2].effects if isinstance(e, AskForReview)]
    assert review == ([AskForReview(ORDER.id)] if promoter else [])


def test_a_skipped_reason_still_opens_the_detractor_ticket_without_description() -> None:
    _, outcomes = run(invited(), TextIn("3"), ButtonIn(f"skip:{FID}"))
    assert effects(outcomes) == [
        RecordScore("nps", 3, FID),
        OpenTicket("detractor", "detractor", ORDER.id, None),
    ]


@pytest.mark.parametrize("typed", ["7", " 7 ", "07", "7\n"])
def test_a_typed_score_is_accepted(typed: str) -> None:
    _, outcomes = run(invited(), TextIn(typed))
    assert effects(outcomes) == [RecordScore("nps", 7, FID)]


@pytest.mark.parametrize(
    "bad",
    [
        TextIn("11"),
        TextIn("-1"),
        TextIn("seven"),
        TextIn("7/10"),
        TextIn(""),
        TextIn("😀"),
        TextIn("1e1"),
        TextIn("²"),
        MediaIn("sticker"),
        MediaIn("photo"),
        MediaIn("voice"),
        ButtonIn(f"nps:{FID}:11"),
        ButtonIn(f"nps:{FID}:x"),
        ButtonIn("nps"),
        ButtonIn("junk"),
    ],
)
def test_anything_but_a_score_gets_a_reprompt_with_the_buttons_and_records_nothing(
    bad: Event,
) -> None:
    state, (outcome,) = run(invited(), bad)
    assert outcome.effects == ()
    assert state == invited()
    assert f"nps:{FID}:10" in button_data(outcome)


def test_csat_out_of_range_is_reprompted_with_its_buttons() -> None:
    state, outcomes = run(invited(), TextIn("9"), ButtonIn(f"skip:{FID}"), TextIn("6"))
    assert effects(outcomes[2:]) == []
    assert state.state == "csat"
    assert f"csat:{FID}:1" in button_data(outcomes[2])


def test_media_instead_of_a_reason_asks_for_text_and_keeps_skip() -> None:
    state, outcomes = run(invited(), TextIn("9"), MediaIn("photo"))
    assert state.state == "reason"
    assert button_data(outcomes[1]) == [f"skip:{FID}"]
    assert outcomes[1].effects == ()


def test_a_button_pressed_twice_records_once_and_says_it_was_answered() -> None:
    _, outcomes = run(invited(), ButtonIn(f"nps:{FID}:10"), ButtonIn(f"nps:{FID}:3"))
    assert effects(outcomes) == [RecordScore("nps", 10, FID)]
    assert outcomes[1].replies[0].text == "You have already answered this question."


def test_a_button_of_another_survey_records_nothing_and_says_it_is_closed() -> None:
    state, (outcome,) = run(invited(), ButtonIn(f"nps:{FID + 1}:10"))
    assert outcome.effects == ()
    assert state == invited()
    assert "closed" in outcome.replies[0].text


def test_survey_buttons_after_the_survey_ended_record_nothing() -> None:
    state, _ = run(invited(), TextIn("9"), ButtonIn(f"skip:{FID}"), TextIn("5"))
    for late in (ButtonIn(f"nps:{FID}:1"), ButtonIn(f"csat:{FID}:1"), ButtonIn(f"skip:{FID}")):
        _, (outcome,) = run(state, late)
        assert outcome.effects == ()
        assert "closed" in outcome.replies[0].text


def test_a_reminder_repeats_the_pending_question_only_for_that_followup() -> None:
    state, _ = run(invited(), TextIn("9"))
    reminder = remind_survey(state, FID, NOW)
    assert reminder.state == state
    assert button_data(reminder) == [f"skip:{FID}"]
    assert remind_survey(state, FID + 1, NOW) == Outcome(state)
    assert remind_survey(State(), FID, NOW) == Outcome(State())


def test_expiry_closes_the_survey_quietly_and_ignores_other_followups() -> None:
    assert expire_survey(invited(), FID, NOW) == Outcome(State())
    assert expire_survey(invited(), FID + 1, NOW) == Outcome(invited())


def test_a_complaint_during_the_survey_resumes_the_survey_afterwards() -> None:
    state, outcomes = run(
        invited(),
        ButtonIn(f"nps:{FID}:9"),
        CommandIn("problem"),
        ButtonIn("cat:late_delivery"),
        TextIn("still waiting for the second box"),
    )
    assert state.flow == "survey" and state.state == "reason"
    assert button_data(outcomes[-1])[-1] == f"skip:{FID}"
    opened = [e for e in effects(outcomes) if isinstance(e, OpenTicket)]
    assert opened == [
        OpenTicket("complaint", "late_delivery", ORDER.id, "still waiting for the second box")
    ]


def test_a_survey_button_during_a_complaint_goes_back_to_the_survey() -> None:
    state, outcomes = run(invited(), CommandIn("problem"), ButtonIn(f"nps:{FID}:6"))
    assert (state.flow, state.state) == ("survey", "reason")
    assert outcomes[-1].effects == (RecordScore("nps", 6, FID),)


def test_expiry_of_a_suspended_survey_drops_it_from_the_complaint() -> None:
    state, _ = run(invited(), CommandIn("problem"))
    expired = expire_survey(state, FID, NOW)
    assert expired.state.flow == "complaint" and "resume" not in expired.state.data
    assert expired.replies == ()


def test_a_new_invitation_replaces_an_unfinished_survey() -> None:
    state, _ = run(invited(), TextIn("9"))
    state = start_survey(state, FID + 1, ORDER, NOW).state
    _, (outcome,) = run(state, ButtonIn(f"skip:{FID}"))
    assert outcome.effects == () and "closed" in outcome.replies[0].text


def test_a_survey_step_logs_nothing_through_transitions(caplog: pytest.LogCaptureFixture) -> None:
    # A step fires through the machine's Event without adding the model, so nothing is
    # bound and nothing logged (binding under model_override warned "Skip binding" per
    # helper per step, about 9% of an update's handling).
    caplog.set_level("DEBUG", logger="transitions")
    state, outcomes = run(invited(), ButtonIn(f"nps:{FID}:3"), TextIn("late"))
    assert [type(e).__name__ for e in effects(outcomes)][:1] == ["RecordScore"]
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []
