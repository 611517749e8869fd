"""Linking a chat to a customer: ``/start <token>`` or a shared phone number.

The link itself lives in the database and the engine resolves tokens and contacts
before the step (``Facts.link``), so linking keeps no conversation state of its own:
these functions only choose the answer.
"""

from __future__ import annotations

from datetime import datetime

from flows import idle
from flows.effects import Effect, OptIn
from flows.events import CommandIn
from flows.replies import N_, Say, say
from flows.spec import Command
from flows.state import Facts, Outcome, State

ABOUT_NAMED = N_(
    "Welcome, {name}! This chat is now linked to your account. After each delivery I "
    "will ask for your opinion here, and you can report a problem with an order at any "
    "time with /problem. Send /help to see everything I can do."
)
CONTACT_LABEL = N_("Share my phone number")
"""The label of the reply-keyboard button that shares the phone number."""
ABOUT = N_(
    "Welcome! This chat is now linked to your account. After each delivery I will ask for "
    "your opinion here, and you can report a problem with an order at any time with "
    "/problem. Send /help to see everything I can do."
)


def how_to_link() -> Say:
    """What an unlinked chat is told whatever it sends."""
    return say(
        "This chat is not linked to your customer account yet. Please open the link we "
        "sent you, or share your phone number with the button below.",
        request_contact=True,
    )


def welcome(facts: Facts) -> Say:
    """The answer to a new link."""
    if facts.customer_name:
        return say(ABOUT_NAMED, name=facts.customer_name, remove_keyboard=True)
    return say(ABOUT, remove_keyboard=True)


def already_linked() -> Say:
    return say(
        "This chat is already linked to your account. Send /problem to report a problem, "
        "or /help to see everything I can do.",
        remove_keyboard=True,
    )


SHARED_PHONE = N_(
    "More than one account uses this phone number, so I linked the one with the most "
    "recent order. If it is not yours, please open the link we sent you."
)


def answer_link(facts: Facts) -> Say:
    """The answer to the engine's result of a token or a shared contact."""
    if facts.link in ("linked", "linked_shared"):
        return welcome(facts)
    if facts.link == "already_linked":
        return already_linked()
    if facts.link == "used":
        return say(
            "This link was already used. If you need a new one, please contact our support "
            "team. You can also share your phone number with the button below.",
            request_contact=True,
        )
    if facts.link == "not_own":
        return say(
            "That seems to be someone else's contact. Please share your own phone number "
            "with the button below.",
            request_contact=True,
        )
    if facts.link == "phone_unknown":  # the chat's own number (WhatsApp) matched nobody
        return say(
            "Hello! I could not find an order placed with this phone number. If you bought "
            "with another number, please tell our support team, so that they can link it."
        )
    if facts.link == "no_match":
        return say(
            "I could not find an account with this phone number. Please open the link we "
            "sent you, or contact our support team.",
            remove_keyboard=True,
        )
    return say(
        "This link is not valid. Please check that you opened the whole link, or share your "
        "phone number with the button below so I can find your account.",
        request_contact=True,
    )


def start(args: str, facts: Facts) -> tuple[tuple[Say, ...], tuple[Effect, ...]]:
    """``/start`` with or without a token."""
    if args.strip() and facts.link is not None:
        return (answer_link(facts),), ()
    if not facts.linked:
        hello = say(
            "Hello! I am the store's after-sales assistant. After each delivery I ask for "
            "your opinion, and I help you when something goes wrong with an order. To find "
            "your orders, please open the link we sent you, or share your phone number with "
            "the button below.",
            request_contact=True,
        )
        return (hello,), ()
    back = say(
        "Welcome back! After each delivery I will ask for your opinion here, and you can "
        "report a problem with an order at any time. Send /help to see everything I can do.",
        buttons=idle.problem_row(),
    )
    if facts.opted_out:
        again = say("You will receive our messages again. To stop them, send /stop.")
        return (back, again), (OptIn(),)
    return (back,), ()


def contact(facts: Facts) -> tuple[Say, ...]:
    """The answers to a shared phone number (the engine already tried to link it)."""
    if facts.link is None:
        return (already_linked() if facts.linked else answer_link(Facts(False, link="no_match")),)
    if facts.link == "linked_shared":
        return answer_link(facts), say(SHARED_PHONE)
    return (answer_link(facts),)


def _start(state: State, event: CommandIn, facts: Facts, now: datetime) -> Outcome:
    replies, effects = start(event.args, facts)
    linked_now = facts.link == "linked" and bool(event.args.strip())
    return Outcome(State() if linked_now else state, replies, effects)  # a new link starts afresh


COMMANDS = (
    Command("start", _start, menu=N_("Start, or link this chat to your account"), linked=False),
)
"""Linking keeps no state of its own: it only answers /start."""
