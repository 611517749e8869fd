"""One step of a conversation: global commands first, then the current flow.

A flow that interrupts another (a complaint during a survey, the resolution question,
the /forget confirmation) keeps the interrupted position in ``data["resume"]``; when it
ends, the conversation goes back there and the pending question is asked again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from flows import commands, complaint, idle, linking, resolution, survey
from flows.effects import ForgetMe, OptOut
from flows.events import ButtonIn, CommandIn, ContactIn, Event, MediaIn
from flows.replies import N_, Say, say
from flows.state import Facts, JSONValue, OrderRef, Outcome, State


@dataclass(frozen=True)
class Flow:
    """What the router needs of a flow."""

    states: frozenset[str]
    handle: Callable[[State, Event, Facts, datetime], Outcome]
    prompt: Callable[[str, Mapping[str, JSONValue], Facts], Say] | None


FLOWS: dict[str, Flow] = {
    idle.FLOW: Flow(idle.STATES, idle.handle, None),
    survey.FLOW: Flow(survey.STATES, survey.handle, survey.prompt),
    complaint.FLOW: Flow(complaint.STATES, complaint.handle, complaint.prompt),
    resolution.FLOW: Flow(resolution.STATES, resolution.handle, resolution.prompt),
    commands.FLOW: Flow(commands.STATES, commands.handle, commands.prompt),
}
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

    Only the complaint flow shows orders: in its own steps, or when a flow that
    interrupted it ends and its question is asked again. Elsewhere the engine may
    leave the orders out (one query less per update).
    """
    if state.flow == complaint.FLOW:
        return True
    held = state.data.get("resume")
    return isinstance(held, dict) and held.get("flow") == complaint.FLOW


def _step(state: State, event: Event, facts: Facts, now: datetime) -> Outcome:
    if isinstance(event, MediaIn) and event.kind == "edited":
        return Outcome(state, (commands.edited(),))
    if isinstance(event, CommandIn):
        return _command(state, event, facts, now)
    if isinstance(event, ContactIn):
        fresh = facts.link in ("linked", "linked_shared")
        after = State() if fresh else state  # a new link starts afresh
        return Outcome(after, linking.contact(facts))
    if isinstance(event, ButtonIn) and event.data.startswith("lang:"):
        text, effects = commands.choose_language(event.data)
        return Outcome(state, (text,), effects)
    if not facts.linked:
        return Outcome(state, (linking.how_to_link(),))
    if isinstance(event, ButtonIn):
        routed = _button(state, event, facts, now)
        if routed is not None:
            return routed
    return _within(state, event, facts, now)


def _within(state: State, event: Event, facts: Facts, now: datetime) -> Outcome:
    """Let the current flow handle the event, then resume an interrupted flow if it ended."""
    outcome = FLOWS[state.flow].handle(state, event, facts, now)
    return _resume(state, outcome, facts)


def _command(state: State, event: CommandIn, facts: Facts, now: datetime) -> Outcome:
    name = event.name.lower()
    if name == "start":
        replies, effects = linking.start(event.args, facts)
        linked_now = facts.link == "linked" and bool(event.args.strip())
        return Outcome(State() if linked_now else state, replies, effects)
    if name == "help":
        return Outcome(state, (commands.help_text(),))
    if name == "language":
        return Outcome(state, (commands.language_menu(),))
    if name not in ("problem", "stop", "mydata", "forget"):
        return Outcome(state, (commands.unknown_command(),))
    if not facts.linked:
        return Outcome(state, (linking.how_to_link(),))
    if name == "problem":
        return complaint.start(_suspend(state))
    if name == "stop":
        text, effects = commands.stop()
        return Outcome(State(), (text,), effects)  # nothing is pending after opting out
    if name == "mydata":
        text, effects = commands.mydata()
        return Outcome(state, (text,), effects)
    return commands.start_forget(_suspend(state))


def _button(state: State, event: ButtonIn, facts: Facts, now: datetime) -> Outcome | None:
    """Buttons that mean the same in every flow; None leaves the button to the flow."""
    data = event.data
    if data == "menu:problem":
        return complaint.start(_suspend(state))
    if data.startswith("forget:") and state.flow != commands.FLOW:
        return Outcome(state, (idle.stale_button(),))
    parsed = survey.survey_button(data)
    if parsed is not None and state.flow != survey.FLOW:
        suspended = _suspended(state)
        if suspended is not None and survey.awaiting(suspended, parsed[1]):
            return survey.handle(suspended, event, facts, now)  # back to the survey
        return Outcome(state, (say(survey.CLOSED),))
    if resolution.ticket_button(data) is not None and state.flow != resolution.FLOW:
        return Outcome(state, (say("This question is closed. Thank you!"),))
    if data.split(":")[0] in ("cat", "ord", "cancel") and state.flow != complaint.FLOW:
        return Outcome(state, (idle.stale_button(),))
    return None


def _suspend(state: State) -> dict[str, JSONValue]:
    """The data of a flow that interrupts ``state``: where to come back to."""
    if state.flow == idle.FLOW:
        return {}
    inner = {k: v for k, v in state.data.items() if k != "resume"}
    return {"resume": {"flow": state.flow, "state": state.state, "data": inner}}


def _suspended(state: State) -> State | None:
    """The interrupted position kept in ``state``, if any and still valid."""
    held = state.data.get("resume")
    if not isinstance(held, dict):
        return None
    flow, name, data = held.get("flow"), held.get("state"), held.get("data")
    if not isinstance(flow, str) or not isinstance(name, str) or not isinstance(data, dict):
        return None
    resumed = State(flow, name, data)
    return resumed if valid(resumed) and flow != idle.FLOW else None


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
    return resolution.start(ticket_id, _suspend(state))
