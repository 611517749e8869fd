"""The shared pieces of every flow machine: the per-step model and the machine wrapper.

Each flow declares one ``transitions.Machine`` at import time and shares it: a step
rebuilds a plain model from the stored state, attaches it, fires one trigger and
detaches it again (nothing stays attached, nothing is pickled).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from transitions import Machine

from flows.effects import Effect
from flows.replies import Say
from flows.state import Facts, JSONValue, Outcome, State

S = TypeVar("S", bound=Enum)


class _OverrideMachine(Machine):
    """A ``Machine`` that binds only what a model declares, without a warning per helper.

    With ``model_override=True`` transitions binds only the trigger stubs a model
    declares and logs "Skip binding" for every other helper (``is_<state>``,
    ``may_<trigger>``) on every ``add_model``: a log record built per helper per step
    (about 9% of an update's handling), then thrown away. Skipping them is the point.
    ``_checked_assignment`` is transitions' own hook for this choice (pinned < 0.10).
    """

    def _checked_assignment(self, model: Any, name: str, func: Any) -> None:
        if getattr(model, name, None) is not None:
            setattr(model, name, func)


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
        self.machine = _OverrideMachine(
            model=None,
            states=states,
            transitions=[dict(t) for t in transitions],
            initial=initial,
            auto_transitions=False,
            model_override=True,
            queued=True,  # the sync Machine queues per machine; "model" is AsyncMachine-only
            name=name,
        )

    def parse(self, value: str) -> S | None:
        """The state stored as ``value``, or None when the flow has no such state."""
        try:
            return self.states(value)
        except ValueError:
            return None

    def can(self, model: Step[S], trigger: str) -> bool:
        """Whether ``trigger`` is declared from the model's current state."""
        return trigger in self.machine.get_triggers(model.state.name)

    @contextmanager
    def attached(self, model: Step[S]) -> Iterator[Step[S]]:
        """Attach ``model`` for the span of one step; always detached afterwards."""
        self.machine.add_model(model, initial=model.state)
        try:
            yield model
        finally:
            self.machine.remove_model(model)

    def fire(self, model: Step[S], trigger: str, *args: Any) -> bool:
        """Fire ``trigger`` on ``model``; False when it is not allowed in the current state."""
        if not self.can(model, trigger):
            return False
        with self.attached(model):
            return bool(getattr(model, trigger)(*args))
