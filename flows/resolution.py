"""After an operator resolves a ticket: solved? "yes" closes it and asks a 1-5 rating,
"no" reopens it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum

from flows import idle
from flows.effects import CloseTicket, RateTicket, ReopenTicket
from flows.events import ButtonIn, Event, TextIn
from flows.inputs import as_int, get_int, parse_score
from flows.machine import FlowMachine, Step
from flows.replies import Button, Say, button, plain_button, say
from flows.spec import ButtonRoute, FlowSpec
from flows.state import Facts, JSONValue, Outcome, State

FLOW = "resolution"


class Resolution(Enum):
    """Where the customer stands in confirming a resolved ticket."""

    ASKED = "asked"
    RATING = "rating"
    DONE = "done"


TRANSITIONS = [
    {
        "trigger": "solved",
        "source": Resolution.ASKED,
        "dest": Resolution.RATING,
        "after": "on_solved",
    },
    {
        "trigger": "not_solved",
        "source": Resolution.ASKED,
        "dest": Resolution.DONE,
        "after": "on_not_solved",
    },
    {"trigger": "rate", "source": Resolution.RATING, "dest": Resolution.DONE, "after": "on_rate"},
    # the rating is optional: writing about something else leaves it
    {"trigger": "skip_rating", "source": Resolution.RATING, "dest": Resolution.DONE},
]


class ResolutionStep(Step[Resolution]):
    """One step of the resolution question."""

    @property
    def ticket(self) -> int:
        return get_int(self.data, "ticket") or 0

    def on_solved(self) -> None:
        self.effect(CloseTicket(self.ticket))
        self.reply(prompt(self.state.value, self.data))

    def on_not_solved(self) -> None:
        self.effect(ReopenTicket(self.ticket))
        self.reply(
            say(
                "Sorry about that. Ticket #{n} is open again and our team will get back to "
                "you here. You can add details in a message.",
                n=self.ticket,
            )
        )

    def on_rate(self, rating: int) -> None:
        self.effect(RateTicket(self.ticket, rating))
        self.reply(say("Thank you for your rating!"))


MACHINE = FlowMachine(FLOW, Resolution, TRANSITIONS, Resolution.ASKED)
STATES = frozenset({Resolution.ASKED.value, Resolution.RATING.value})


def _answer_buttons(ticket: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (button("Yes, it is solved", f"res:{ticket}:yes"),),
        (button("No, it is not", f"res:{ticket}:no"),),
    )


def _rating_buttons(ticket: int) -> tuple[tuple[Button, ...], ...]:
    return (tuple(plain_button(f"{n} ⭐", f"rate:{ticket}:{n}") for n in range(1, 6)),)


def prompt(state: str, data: Mapping[str, JSONValue], facts: Facts | None = None) -> Say:
    """The question pending in ``state``."""
    ticket = get_int(data, "ticket") or 0
    if state == Resolution.RATING.value:
        return say(
            "Great! How would you rate our support on this ticket, from 1 (poor) to 5 (excellent)?",
            buttons=_rating_buttons(ticket),
        )
    return say(
        "Our team marked ticket #{n} as solved. Is your problem solved?",
        buttons=_answer_buttons(ticket),
        n=ticket,
    )


def start(ticket_id: int, data: Mapping[str, JSONValue]) -> Outcome:
    """Ask whether ticket ``ticket_id`` is solved."""
    state = State(FLOW, Resolution.ASKED.value, {**data, "ticket": ticket_id})
    return Outcome(state, (prompt(state.state, state.data),))


def ticket_button(data: str) -> tuple[str, int, str] | None:
    """``(kind, ticket_id, answer)`` of ``res:<id>:yes|no`` and ``rate:<id>:<n>``."""
    fields = data.split(":")
    if len(fields) != 3 or fields[0] not in ("res", "rate"):
        return None
    ticket = as_int(fields[1])
    return None if ticket is None else (fields[0], ticket, fields[2])


def handle(state: State, event: Event, facts: Facts, now: datetime) -> Outcome:
    """One customer event while the resolution question is pending."""
    current = MACHINE.parse(state.state) or Resolution.ASKED
    model = ResolutionStep(current, dict(state.data), facts, now)
    if isinstance(event, ButtonIn):
        _button(model, event.data)
    elif isinstance(event, TextIn) and current is Resolution.RATING:
        rating = parse_score(event.text, 1, 5)
        if rating is not None:
            MACHINE.fire(model, "rate", rating)
        else:  # something else to say: leave the rating and treat it as a message
            MACHINE.fire(model, "skip_rating")
            after = idle.handle(State(), event, facts, now)
            model.reply(*after.replies)
            model.effect(*after.effects)
    elif current is Resolution.RATING:
        model.reply(prompt(current.value, model.data))
    else:
        model.reply(
            say(
                "Please tap one of the buttons: is your problem with ticket #{n} solved?",
                buttons=_answer_buttons(model.ticket),
                n=model.ticket,
            )
        )
    if model.state is Resolution.DONE:
        return Outcome(State(), tuple(model.replies), tuple(model.effects))
    return model.outcome(FLOW)


def _button(model: ResolutionStep, data: str) -> None:
    parsed = ticket_button(data)
    if parsed is None:
        model.reply(prompt(model.state.value, model.data))
        return
    kind, ticket, answer = parsed
    if ticket != model.ticket:
        model.reply(say("This question is closed. Thank you!"))
        return
    expected = "res" if model.state is Resolution.ASKED else "rate"
    if kind != expected:
        model.reply(say("You have already answered this question."))
        model.reply(prompt(model.state.value, model.data))
        return
    if kind == "res" and answer in ("yes", "no"):
        MACHINE.fire(model, "solved" if answer == "yes" else "not_solved")
        return
    rating = parse_score(answer, 1, 5) if kind == "rate" else None
    if rating is None:
        model.reply(prompt(model.state.value, model.data))
    else:
        MACHINE.fire(model, "rate", rating)


def _elsewhere(state: State, event: ButtonIn, facts: Facts, now: datetime) -> Outcome | None:
    """A resolution button after the question was answered or replaced."""
    if ticket_button(event.data) is None:
        return None
    return Outcome(state, (say("This question is closed. Thank you!"),))


SPEC = FlowSpec(
    FLOW,
    STATES,
    handle,
    prompt,
    buttons=tuple(ButtonRoute(kind, _elsewhere, owner=FLOW) for kind in ("res", "rate")),
)
