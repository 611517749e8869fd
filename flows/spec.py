"""What a flow declares about itself, for the router, the help text and the command menu.

Each flow module holds a ``SPEC``: its states, its step and pending question, the
commands it answers, the buttons it owns and the facts it reads. ``flows.registry``
gathers them; nothing outside a flow module knows a flow's command or button names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flows.events import ButtonIn, CommandIn, Event
from flows.replies import Say
from flows.state import Facts, JSONValue, Outcome, State

Handle = Callable[[State, Event, Facts, datetime], Outcome]
Prompt = Callable[[str, Mapping[str, JSONValue], Facts], Say]
RunCommand = Callable[[State, CommandIn, Facts, datetime], Outcome]
PressButton = Callable[[State, ButtonIn, Facts, datetime], Outcome | None]


@dataclass(frozen=True)
class Command:
    """A customer command: ``/name``, its line in /help and its entry in the command menu."""

    name: str
    run: RunCommand
    help: str | None = None  # msgid of the /help line; None: not listed there
    menu: str | None = None  # msgid of the menu description; None: not in the menu
    linked: bool = True  # only for a chat linked to a customer


@dataclass(frozen=True)
class ButtonRoute:
    """Buttons whose data starts with ``kind:`` (or is just ``kind``).

    ``owner`` is the flow that handles them itself; in any other flow ``press`` answers
    (a stale button, a closed question). Without an owner ``press`` answers everywhere.
    ``press`` returning None leaves the button to the current flow.
    """

    kind: str
    press: PressButton
    owner: str | None = None
    linked: bool = True


@dataclass(frozen=True)
class FlowSpec:
    """One flow as the router sees it."""

    name: str
    states: frozenset[str]
    handle: Handle
    prompt: Prompt | None = None
    commands: tuple[Command, ...] = ()
    buttons: tuple[ButtonRoute, ...] = ()
    needs_orders: bool = False  # its steps or its pending question read ``Facts.orders``


def suspend(state: State) -> dict[str, JSONValue]:
    """The data of a flow that interrupts ``state``: where to come back to."""
    if state.flow == "idle":
        return {}
    inner = {k: v for k, v in state.data.items() if k != "resume"}
    return {"resume": {"flow": state.flow, "state": state.state, "data": inner}}


def held(state: State) -> State | None:
    """The interrupted position kept in ``state``, if it has the shape of one."""
    kept = state.data.get("resume")
    if not isinstance(kept, dict):
        return None
    flow, name, data = kept.get("flow"), kept.get("state"), kept.get("data")
    if not isinstance(flow, str) or not isinstance(name, str) or not isinstance(data, dict):
        return None
    return State(flow, name, data)
