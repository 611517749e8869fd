"""Reporting a problem: category, order, description, ticket; and messages joining it."""

from __future__ import annotations

from datetime import UTC, datetime

from flows import (
    AddToTicket,
    ButtonIn,
    CommandIn,
    Facts,
    MediaIn,
    OpenTicket,
    OrderRef,
    Outcome,
    State,
    TextIn,
    step,
)
from flows.events import Event

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
A, B = OrderRef(31, "#A31 (08/03)"), OrderRef(30, "#A30 (01/02)")


def run(facts: Facts, *events: Event, state: State | None = None) -> tuple[State, list[Outcome]]:
    state = state or State()
    outcomes = []
    for event in events:
        outcomes.append(step(state, event, facts, NOW))
        state = outcomes[-1].state
    return state, outcomes


def data(outcome: Outcome) -> list[str]:
    return [b.data for say in outcome.replies for row in say.buttons for b in row]


def test_problem_offers_the_five_categories_and_cancel() -> None:
    _, (outcome,) = run(Facts(linked=True), CommandIn("problem"))
    assert data(outcome) == [
        "cat:late_delivery", "cat:damaged", "cat:wrong_item", "cat:return", "cat:other", "cancel",
    ]  # fmt: skip


def test_with_several_orders_the_customer_picks_one() -> None:
    facts = Facts(linked=True, orders=(A, B))
    state, outcomes = run(
        facts, ButtonIn("menu:problem"), ButtonIn("cat:wrong_item"), ButtonIn("ord:30"),
        TextIn("I got a blue mug, not a red one"),
    )  # fmt: skip
    assert data(outcomes[1]) == ["ord:31", "ord:30", "ord:none", "cancel"]
    assert outcomes[-1].effects == (
        OpenTicket("complaint", "wrong_item", 30, "I got a blue mug, not a red one"),
    )
    assert ("n", "$ticket") in outcomes[-1].replies[0].params
    assert state == State()


def test_with_one_order_it_is_taken_and_with_none_the_ticket_has_no_order() -> None:
    _, one = run(Facts(linked=True, orders=(A,)), CommandIn("problem"), ButtonIn("cat:damaged"),
                 TextIn("broken"))  # fmt: skip
    assert one[-1].effects == (OpenTicket("complaint", "damaged", 31, "broken"),)
    _, none = run(Facts(linked=True), CommandIn("problem"), ButtonIn("cat:other"), TextIn("hi"))
    assert none[-1].effects == (OpenTicket("complaint", "other", None, "hi"),)


def test_another_order_leaves_the_order_out() -> None:
    facts = Facts(linked=True, orders=(A, B))
    _, outcomes = run(facts, CommandIn("problem"), ButtonIn("cat:return"), ButtonIn("ord:none"),
                      TextIn("exchange please"))  # fmt: skip
    assert outcomes[-1].effects == (OpenTicket("complaint", "return", None, "exchange please"),)


def test_an_order_that_is_not_the_customers_is_refused() -> None:
    facts = Facts(linked=True, orders=(A, B))
    state, outcomes = run(facts, CommandIn("problem"), ButtonIn("cat:return"), ButtonIn("ord:99"))
    assert state.state == "order"
    assert "ord:31" in data(outcomes[-1])


def test_text_or_media_where_a_button_is_expected_gets_a_reprompt() -> None:
    state, outcomes = run(Facts(linked=True), CommandIn("problem"), TextIn("my parcel"),
                          MediaIn("photo"))  # fmt: skip
    assert state.state == "category"
    assert all("cat:damaged" in data(o) for o in outcomes)


def test_media_or_blank_text_instead_of_a_description_asks_for_text() -> None:
    state, outcomes = run(Facts(linked=True), CommandIn("problem"), ButtonIn("cat:other"),
                          MediaIn("photo"), TextIn("   "))  # fmt: skip
    assert state.state == "description"
    assert not any(o.effects for o in outcomes)


def test_cancel_leaves_without_a_ticket() -> None:
    state, outcomes = run(Facts(linked=True), CommandIn("problem"), ButtonIn("cancel"))
    assert state == State() and outcomes[-1].effects == ()


def test_an_unlinked_chat_is_told_how_to_link_instead() -> None:
    state, (outcome,) = run(Facts(linked=False), CommandIn("problem"))
    assert state == State() and outcome.replies[0].request_contact


def test_messages_while_a_ticket_is_open_join_it_and_are_acknowledged() -> None:
    facts = Facts(linked=True, active_ticket=12)
    state, (outcome,) = run(facts, TextIn("  any news?  "))
    assert outcome.effects == (AddToTicket(12, "any news?"),)
    assert ("n", 12) in outcome.replies[0].params
    assert state == State()


def test_without_an_open_ticket_a_message_gets_the_menu() -> None:
    _, (outcome,) = run(Facts(linked=True), TextIn("hello"))
    assert outcome.effects == () and data(outcome) == ["menu:problem"]


def test_complaint_buttons_outside_a_complaint_are_no_longer_valid() -> None:
    _, (outcome,) = run(Facts(linked=True), ButtonIn("cat:damaged"))
    assert outcome.effects == () and outcome.replies[0].text == "This button is no longer valid."
