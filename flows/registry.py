"""Every flow, command and button route, gathered from the flow modules' declarations.

The router dispatches through these tables; /help and the command menu are generated
from them, so a new flow adds its ``SPEC`` here and nowhere else.
"""

from __future__ import annotations

from datetime import datetime

from flows import commands, complaint, idle, linking, resolution, survey
from flows.events import CommandIn
from flows.replies import N_, Lines, Say, say
from flows.spec import ButtonRoute, Command, FlowSpec
from flows.state import Facts, Outcome, State

SPECS: tuple[FlowSpec, ...] = (
    idle.SPEC,
    survey.SPEC,
    complaint.SPEC,
    resolution.SPEC,
    commands.SPEC,
)
FLOWS: dict[str, FlowSpec] = {spec.name: spec for spec in SPECS}

HELP_INTRO = N_("Here is what I can do:\n{commands}")


def help_text() -> Say:
    """/help: every listed command, /help itself last."""
    lines = [c.help for c in COMMANDS.values() if c.help and c is not HELP]
    assert HELP.help is not None
    return say(HELP_INTRO, commands=Lines((*lines, HELP.help)))


def _help(state: State, event: CommandIn, facts: Facts, now: datetime) -> Outcome:
    return Outcome(state, (help_text(),))


HELP = Command(
    "help", _help, help=N_("/help - show this list"), menu=N_("What I can do"), linked=False
)


def _menu_order() -> tuple[Command, ...]:
    """/start, then every flow's commands in ``SPECS`` order, /help after the complaint
    flow's (the menu leads with what the bot is for)."""
    ordered: list[Command] = list(linking.COMMANDS)
    for spec in SPECS:
        ordered.extend(spec.commands)
        if spec is complaint.SPEC:
            ordered.append(HELP)
    return tuple(ordered)


# In the command menu's order.
COMMANDS: dict[str, Command] = {c.name: c for c in _menu_order()}
BUTTONS: dict[str, ButtonRoute] = {b.kind: b for spec in SPECS for b in spec.buttons}

assert len(COMMANDS) == len(linking.COMMANDS) + 1 + sum(len(s.commands) for s in SPECS)
assert len(BUTTONS) == sum(len(s.buttons) for s in SPECS)
assert all(b.owner is None or b.owner in FLOWS for b in BUTTONS.values())
