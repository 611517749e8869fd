"""One step of a conversation: global commands first, then the current flow.

A flow that interrupts another (a complaint during a survey, the resolution question,
the /forget confirmation) keeps the interrupted position in ``data["resume"]``; when it
ends, the conversation goes back there and the pending question is asked again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from flows import commands, idle, linking, resolution, survey
from flows.effects import ForgetMe, OptOut
from flows.events import ButtonIn, CommandIn, ContactIn, Event, MediaIn, TextIn
from flows.registry import BUTTONS, COMMANDS, FLOWS
from flows.replies import N_, say
from flows.spec import held, suspend
from flows.state import Facts, OrderRef, Outcome, State

OOPS = N_("Sorry, something went wrong on my side. Please try again, or send /help.")


def valid(state: State) -> bool:
    """Whether ``state`` names a known flow and state and holds JSON data."""
    flow = FLOWS.get(state.flow)
    if flow is None or state.state not in flow.states or not isinstance(state.data, Mapping):
        return False
    try:
        json.dumps(dict(state.data), allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def step(state: State, event: Event, facts: Facts, now: datetime) -> Outcome:
    """Answer one customer event: always at least one reply, never an exception."""
    if not valid(state):
        state = State()  # a state from an older version of the flows: start afresh
    try:
        return _step(state, event, facts, now)
    except Exception:  # an answer beats a failed update delivered again and again
        return Outcome(State(), (say(OOPS),), ())


def needs_orders(state: State) -> bool:
    """Whether a step from ``state`` may read ``Facts.orders``.

    A flow declares it (``FlowSpec.needs_orders``): in its own steps, or when a flow
    that interrupted it ends and its question is asked again. Elsewhere the engine may
    leave the orders out (one query less per update).
    """
    for position in (state, held(state)):
        spec = FLOWS.get(position.flow) if position is not None else None
        if spec is not None and spec.needs_orders:
            return True
    return False


# The word alone, as people type it where a channel has no commands menu (WhatsApp's
# "send STOP"), in each of our languages: it means /stop.
STOP_WORDS = frozenset(("stop", "parar", "pare", "sair", "baja", "prou"))


def _step(state: State, event: Event, facts: Facts, now: datetime) -> Outcome:
    if isinstance(event, TextIn) and event.text.strip().strip(".!").lower() in STOP_WORDS:
        event = CommandIn("stop")
    if isinstance(event, MediaIn) and event.kind == "edited":
        return Outcome(state, (commands.edited(),))
    if isinstance(event, CommandIn):
        return _command(state, event, facts, now)
    if isinstance(event, ContactIn):
        fresh = facts.link in ("linked", "linked_shared")
        after = State() if fresh else state  # a new link starts afresh
        return Outcome(after, linking.contact(facts))
    routed = _button(state, event, facts, now, linked=False)
    if routed is not None:
        return routed
    if not facts.linked:
        return Outcome(state, (linking.how_to_link(),))
    return _button(state, event, facts, now, linked=True) or _within(state, event, facts, now)


def _within(state: State, event: Event, facts: Facts, now: datetime) -> Outcome:
    """Let the current flow handle the event, then resume an interrupted flow if it ended."""
    outcome = FLOWS[state.flow].handle(state, event, facts, now)
    return _resume(state, outcome, facts)


def _command(state: State, event: CommandIn, facts: Facts, now: datetime) -> Outcome:
    command = COMMANDS.get(event.name.lower())
    if command is None:
        return Outcome(state, (commands.unknown_command(),))
    if command.linked and not facts.linked:
        return Outcome(state, (linking.how_to_link(),))
    return command.run(state, event, facts, now)


def _button(
    state: State, event: Event, facts: Facts, now: datetime, *, linked: bool
) -> Outcome | None:
    """Buttons that mean the same in every flow; None leaves the button to the flow."""
    if not isinstance(event, ButtonIn):
        return None
    route = BUTTONS.get(event.data.split(":")[0])
    if route is None or route.linked is not linked or route.owner == state.flow:
        return None
    return route.press(state, event, facts, now)


def _suspended(state: State) -> State | None:
    """The interrupted position kept in ``state``, if any and still valid."""
    resumed = held(state)
    return resumed if resumed is not None and valid(resumed) and resumed.flow != idle.FLOW else None


def _resume(before: State, outcome: Outcome, facts: Facts) -> Outcome:
    if outcome.state.flow != idle.FLOW or any(
        isinstance(e, ForgetMe | OptOut) for e in outcome.effects
    ):
        return outcome
    resumed = _suspended(before)
    if resumed is None or before.flow == idle.FLOW:
        return outcome
    prompt = FLOWS[resumed.flow].prompt
    back = say("Now, back to where we were:")
    replies = (
        outcome.replies
        + (back,)
        + ((prompt(resumed.state, resumed.data, facts),) if prompt else ())
    )
    return replace(outcome, state=resumed, replies=replies)


# -- started from outside (scheduler, operators) ------------------------------------------


def start_survey(state: State, followup_id: int, order: OrderRef, now: datetime) -> Outcome:
    """Invite the customer to a survey; it replaces whatever was pending."""
    return survey.start(followup_id, order)


def remind_survey(state: State, followup_id: int, now: datetime) -> Outcome:
    """Ask the pending survey question again; nothing when that survey is not pending."""
    if valid(state) and survey.awaiting(state, followup_id):
        return survey.remind(state)
    return Outcome(state)


def expire_survey(state: State, followup_id: int, now: datetime) -> Outcome:
    """Close the survey quietly (silence after a reminder is an answer too)."""
    if not valid(state):
        return Outcome(State())
    if survey.awaiting(state, followup_id):
        return Outcome(State())
    suspended = _suspended(state)
    if suspended is not None and survey.awaiting(suspended, followup_id):
        data = {k: v for k, v in state.data.items() if k != "resume"}
        return Outcome(replace(state, data=data))
    return Outcome(state)


def ask_resolution(state: State, ticket_id: int, now: datetime) -> Outcome:
    """Ask whether ticket ``ticket_id`` is solved, interrupting any pending flow."""
    if not valid(state):
        state = State()
    if state.flow == resolution.FLOW:
        state = _suspended(state) or State()  # a newer question replaces an older one
    return resolution.start(ticket_id, suspend(state))
