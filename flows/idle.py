"""The resting conversation: the menu, and messages joining the customer's open ticket."""

from __future__ import annotations

from datetime import datetime

from flows.effects import AddToTicket
from flows.events import ButtonIn, Event, MediaIn, TextIn
from flows.replies import Button, Say, button, say
from flows.spec import FlowSpec
from flows.state import Facts, Outcome, State

FLOW = "idle"
STATES = frozenset({"idle"})
TICKET_NOTE_MAX = 4000  # one chat message; Telegram caps a text at 4096 characters


def problem_row() -> tuple[tuple[Button, ...], ...]:
    """The menu's single button, the way into a complaint."""
    problem = button("I have a problem", "menu:problem")
    return ((problem,),)


def menu() -> Say:
    """What the bot offers when nothing is going on."""
    return say(
        "How can I help you? If something went wrong with an order, tap the button below. "
        "Send /help to see everything I can do.",
        buttons=problem_row(),
    )


def stale_button() -> Say:
    return say("This button is no longer valid.")


def stale(state: State, event: ButtonIn, facts: Facts, now: datetime) -> Outcome:
    """A flow's button pressed when that flow is no longer waiting for it."""
    return Outcome(state, (stale_button(),))


def handle(state: State, event: Event, facts: Facts, now: datetime) -> Outcome:
    """A linked customer's message when no flow is waiting for an answer."""
    ticket = facts.active_ticket
    if isinstance(event, TextIn) and event.text.strip() and ticket is not None:
        note = AddToTicket(ticket, event.text.strip()[:TICKET_NOTE_MAX])
        ack = say(
            "Thanks, I added your message to ticket #{n}. Our team will answer you here.",
            n=ticket,
        )
        return Outcome(state, (ack,), (note,))
    if isinstance(event, MediaIn) and ticket is not None:
        text = say(
            "I can only pass text messages on to our team. Please write your message in words."
        )
        return Outcome(state, (text,), ())
    if isinstance(event, MediaIn):
        return Outcome(state, (say("I can only read text messages."), menu()), ())
    if isinstance(event, ButtonIn):
        return Outcome(state, (stale_button(), menu()), ())
    return Outcome(state, (menu(),), ())


SPEC = FlowSpec(FLOW, STATES, handle)
