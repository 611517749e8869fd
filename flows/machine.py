"""The shared pieces of every flow machine: the per-step model and the machine wrapper.

Each flow declares one ``transitions.Machine`` at import time and shares it: a step
rebuilds a plain model from the stored state and fires one trigger on it through
the machine's ``Event`` (nothing is attached, nothing is pickled).

The model is never added to the machine. ``add_model`` binds a method per trigger
and per state onto the model and registers it; done and undone for every step, it
was about a tenth of an update's handling in the engine (py-spy on
benchmarks/throughput.py). Firing needs none of it: ``Event.trigger`` reads and
sets the model's ``state`` and looks its callbacks up by name (the transition
tables name them; no flow uses ``on_enter_<state>`` methods, which only
``add_model`` would register).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from transitions import Machine

from flows.effects import Effect
from flows.replies import Say
from flows.state import Facts, JSONValue, Outcome, State

S = TypeVar("S", bound=Enum)


@dataclass(eq=False)  # eq=False: transitions tells models apart by identity
class Step(Generic[S]):
    """The model of one step: the flow's state and data, and what the step produced."""

    state: S
    data: dict[str, JSONValue]
    facts: Facts
    now: datetime
    replies: list[Say] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)

    def reply(self, *says: Say) -> None:
        self.replies.extend(says)

    def effect(self, *effects: Effect) -> None:
        self.effects.extend(effects)

    def outcome(self, flow: str) -> Outcome:
        """The step's outcome, staying in ``flow`` at the model's current state."""
        return Outcome(
            State(flow, self.state.value, dict(self.data)),
            tuple(self.replies),
            tuple(self.effects),
        )


class FlowMachine(Generic[S]):
    """One shared machine per flow, declared from an Enum of states and a transition table."""

    def __init__(
        self,
        name: str,
        states: type[S],
        transitions: Sequence[Mapping[str, Any]],
        initial: S,
    ) -> None:
        self.name = name
        self.states = states
        self.machine = Machine(
            model=None,
            states=states,
            transitions=[dict(t) for t in transitions],
            initial=initial,
            auto_transitions=False,
            queued=True,  # the sync Machine queues per machine; "model" is AsyncMachine-only
            name=name,
        )
        # The table is fixed once declared: which triggers each state allows.
        self._allowed = {
            state.name: frozenset(self.machine.get_triggers(state.name)) for state in states
        }

    def parse(self, value: str) -> S | None:
        """The state stored as ``value``, or None when the flow has no such state."""
        try:
            return self.states(value)
        except ValueError:
            return None

    def can(self, model: Step[S], trigger: str) -> bool:
        """Whether ``trigger`` is declared from the model's current state."""
        return trigger in self._allowed[model.state.name]

    def fire(self, model: Step[S], trigger: str, *args: Any) -> bool:
        """Fire ``trigger`` on ``model``; False when it is not allowed in the current state."""
        if not self.can(model, trigger):
            return False
        return bool(self.machine.events[trigger].trigger(model, *args))
