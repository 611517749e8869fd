"""Properties of every step: any event in any reachable state gets an answer, no crash,
and leaves a valid, JSON-serialisable state."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.i18n import LOCALES, catalog, render
from flows import (
    ButtonIn,
    CommandIn,
    ContactIn,
    Facts,
    MediaIn,
    OpenTicket,
    OrderRef,
    Outcome,
    RateTicket,
    RecordScore,
    SetLocale,
    State,
    TextIn,
    ask_resolution,
    expire_survey,
    needs_orders,
    remind_survey,
    start_survey,
    step,
)
from flows.effects import CATEGORIES
from flows.events import Event
from flows.replies import Say
from flows.router import OOPS, valid

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
ORDERS = (OrderRef(31, "#A31 (08/03)"), OrderRef(30, "#A30 (01/02)"))
FIDS = (5, 6, 10**15)
TICKETS = (7, 8)
COMMANDS = ("start", "problem", "help", "language", "stop", "mydata", "forget", "kpi", "")
LINKS = (
    None,
    "linked",
    "linked_shared",
    "already_linked",
    "used",
    "unknown",
    "no_match",
    "not_own",
)

FACTS = [
    Facts(linked=False),
    Facts(linked=True, customer_name="Ana"),
    Facts(linked=True, orders=ORDERS[:1]),
    Facts(linked=True, customer_name="Bia", orders=ORDERS, active_ticket=7),
    Facts(linked=True, orders=ORDERS, opted_out=True),
]


def shown_buttons(outcome: Outcome) -> list[str]:
    return [b.data for say in outcome.replies for row in say.buttons for b in row]


def probes(previous: Outcome) -> list[Event]:
    """A finite set of events that walks every flow: the buttons offered and typical input."""
    return [
        *(ButtonIn(d) for d in shown_buttons(previous)),
        TextIn("8"), TextIn("3"), TextIn("a reason"), MediaIn("photo"),
        CommandIn("problem"), CommandIn("forget"), ButtonIn("cat:damaged"),
        ButtonIn(f"ord:{ORDERS[1].id}"),
    ]  # fmt: skip


def reachable() -> list[State]:
    """Every state reached from the starts by the probes (breadth first)."""
    starts = [
        Outcome(State()),
        start_survey(State(), FIDS[0], ORDERS[0], NOW),
        ask_resolution(State(), TICKETS[0], NOW),
    ]
    seen: dict[str, State] = {}
    queue = list(starts)
    while queue and len(seen) < 400:
        outcome = queue.pop(0)
        key = json.dumps(
            [outcome.state.flow, outcome.state.state, outcome.state.data], sort_keys=True
        )
        if key in seen:
            continue
        seen[key] = outcome.state
        for facts in FACTS[1:4]:
            for event in probes(outcome):
                queue.append(step(outcome.state, event, facts, NOW))
        queue.append(ask_resolution(outcome.state, TICKETS[1], NOW))
    return list(seen.values())


REACHABLE = reachable()

texts = st.one_of(
    st.text(max_size=40),
    st.integers(-20, 30).map(str),
    st.sampled_from(["", " ", "7", " 7 ", "7/10", "10", "😀", "٣", "²", "yes", "no", "\n"]),
)
button_data = st.one_of(
    st.builds("nps:{}:{}".format, st.sampled_from(FIDS), st.integers(-2, 12)),
    st.builds("csat:{}:{}".format, st.sampled_from(FIDS), st.integers(-1, 7)),
    st.builds("skip:{}".format, st.sampled_from(FIDS)),
    st.builds("res:{}:{}".format, st.sampled_from(TICKETS), st.sampled_from(["yes", "no", "x"])),
    st.builds("rate:{}:{}".format, st.sampled_from(TICKETS), st.integers(-1, 7)),
    st.builds("cat:{}".format, st.sampled_from([*CATEGORIES, "x", ""])),
    st.builds("ord:{}".format, st.sampled_from(["31", "30", "999", "none", "-1", ""])),
    st.builds("lang:{}".format, st.sampled_from([*LOCALES, "de", ""])),
    st.sampled_from(["menu:problem", "forget:yes", "forget:no", "cancel", "op:x", ":", ""]),
    st.text(max_size=64),
)
events = st.one_of(
    st.builds(TextIn, texts),
    st.builds(ButtonIn, button_data),
    st.builds(CommandIn, st.sampled_from(COMMANDS), st.sampled_from(["", "tok", " x "])),
    st.builds(ContactIn, st.sampled_from(["+5511999990000", "123"]), st.booleans()),
    st.builds(MediaIn, st.sampled_from(["photo", "sticker", "voice", "document", "edited"])),
)
facts = st.builds(
    lambda base, link: Facts(
        linked=base.linked,
        customer_name=base.customer_name,
        orders=base.orders,
        active_ticket=base.active_ticket,
        opted_out=base.opted_out,
        link=link,
    ),
    st.sampled_from(FACTS),
    st.sampled_from(LINKS),
)


def check(outcome: Outcome, *, answered: bool = True) -> None:
    """The invariants of every outcome."""
    assert valid(outcome.state), outcome.state
    json.dumps(dict(outcome.state.data), allow_nan=False)
    if answered:
        assert outcome.replies, "every step answers"
    for say in outcome.replies:
        _check_reply(say)
    for effect in outcome.effects:
        if isinstance(effect, RecordScore):
            low, high = (0, 10) if effect.kind == "nps" else (1, 5)
            assert low <= effect.score <= high
        if isinstance(effect, RateTicket):
            assert 1 <= effect.rating <= 5
        if isinstance(effect, OpenTicket):
            assert effect.category in (*CATEGORIES, "detractor")
        if isinstance(effect, SetLocale):
            assert effect.locale in LOCALES


def _check_reply(say: Say) -> None:
    assert say.text != OOPS, "a step raised"
    for row in say.buttons:
        for b in row:
            assert len(b.data.encode()) <= 64
    for locale in LOCALES:
        assert say.verbatim or say.text in catalog(locale), say.text
        body = render(say, locale)
        assert body.text.strip()
        params = {f"{{{k}}}" for k, _ in say.params}
        assert not any(p in body.text for p in params), "a placeholder left unfilled"


def test_the_exploration_reaches_every_flow_and_state() -> None:
    names = {(s.flow, s.state) for s in REACHABLE}
    assert names == {
        ("idle", "idle"),
        ("survey", "nps"), ("survey", "reason"), ("survey", "csat"), ("survey", "csat_comment"),
        ("complaint", "category"), ("complaint", "order"), ("complaint", "description"),
        ("resolution", "asked"), ("resolution", "rating"),
        ("account", "confirm_forget"),
    }  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REACHABLE), events, facts)
def test_any_event_in_any_reachable_state_gets_an_answer_and_a_valid_state(
    state: State, event: Event, fact: Facts
) -> None:
    check(step(state, event, fact, NOW))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(REACHABLE), st.lists(st.tuples(events, facts), max_size=12))
def test_long_random_conversations_stay_valid(
    state: State, script: list[tuple[Event, Facts]]
) -> None:
    for event, fact in script:
        outcome = step(state, event, fact, NOW)
        check(outcome)
        state = outcome.state


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(REACHABLE), st.sampled_from(FIDS), st.sampled_from(TICKETS))
def test_scheduler_and_operator_entries_keep_the_state_valid(
    state: State, fid: int, ticket: int
) -> None:
    check(start_survey(state, fid, ORDERS[0], NOW))
    check(ask_resolution(state, ticket, NOW))
    check(remind_survey(state, fid, NOW), answered=False)
    check(expire_survey(state, fid, NOW), answered=False)


@given(
    st.builds(
        State,
        st.sampled_from(["idle", "survey", "complaint", "gone", ""]),
        st.sampled_from(["idle", "nps", "csat", "order", "rating", "???"]),
        st.dictionaries(
            st.sampled_from(["fid", "nps", "order", "label", "ticket", "category", "resume"]),
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(),
                st.text(max_size=5),
                st.just({"flow": "survey", "state": "nps", "data": {"fid": "x"}}),
            ),
        ),
    ),
    events,
    facts,
)
@settings(deadline=None)
def test_a_corrupted_or_outdated_stored_state_is_answered_not_crashed(
    state: State, event: Event, fact: Facts
) -> None:
    check(step(state, event, fact, NOW))


def test_a_step_that_does_not_need_orders_answers_the_same_without_them() -> None:
    answers = [ButtonIn(f"res:{t}:{a}") for t in TICKETS for a in ("yes", "no")]
    answers += [ButtonIn(f"rate:{t}:5") for t in TICKETS]
    answers += [ButtonIn("forget:no"), ButtonIn("cancel"), CommandIn("stop")]
    for state in REACHABLE:
        if needs_orders(state):
            continue
        for event in [*probes(Outcome(state)), *answers]:
            for fact in FACTS:
                without = replace(fact, orders=())
                assert step(state, event, fact, NOW) == step(state, event, without, NOW)


def test_every_reachable_complaint_state_needs_orders() -> None:
    for state in REACHABLE:
        if state.flow == "complaint":
            assert needs_orders(state)
