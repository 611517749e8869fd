"""Customer commands: /help, /language, /stop, /mydata and /forget (with confirmation)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum

from flows.effects import Effect, ExportMyData, ForgetMe, OptOut, SetLocale
from flows.events import ButtonIn, Event
from flows.locales import LANGUAGES
from flows.machine import FlowMachine, Step
from flows.replies import Button, Say, button, plain_button, say
from flows.state import Facts, JSONValue, Outcome, State

FLOW = "account"


class Account(Enum):
    """Confirming a request about the customer's account."""

    CONFIRM_FORGET = "confirm_forget"
    DONE = "done"


TRANSITIONS = [
    {
        "trigger": "confirm",
        "source": Account.CONFIRM_FORGET,
        "dest": Account.DONE,
        "after": "on_confirm",
    },
    {
        "trigger": "decline",
        "source": Account.CONFIRM_FORGET,
        "dest": Account.DONE,
        "after": "on_decline",
    },
]


class AccountStep(Step[Account]):
    """One step of the /forget confirmation."""

    def on_confirm(self) -> None:
        self.effect(ForgetMe())
        self.reply(
            say(
                "Your data has been deleted and this chat is no longer linked to you. "
                "Thank you for having been our customer.",
                remove_keyboard=True,
            )
        )

    def on_decline(self) -> None:
        self.reply(say("All right, nothing was deleted."))


MACHINE = FlowMachine(FLOW, Account, TRANSITIONS, Account.CONFIRM_FORGET)
STATES = frozenset({Account.CONFIRM_FORGET.value})


def help_text() -> Say:
    return say(
        "Here is what I can do:\n"
        "/problem - report a problem with an order\n"
        "/language - choose your language\n"
        "/stop - stop receiving surveys and reminders\n"
        "/mydata - get a copy of the data we keep about you\n"
        "/forget - delete your data\n"
        "/help - show this list"
    )


def unknown_command() -> Say:
    return say("I don't know that command. Send /help to see what I can do.")


def edited() -> Say:
    return say("I don't read edited messages. Please send a new message instead.")


def language_menu() -> Say:
    rows = (LANGUAGES[:2], LANGUAGES[2:])
    return say(
        "Choose your language:",
        buttons=tuple(
            tuple(plain_button(name, f"lang:{code}") for code, name in row) for row in rows
        ),
    )


def choose_language(data: str) -> tuple[Say, tuple[Effect, ...]]:
    """A ``lang:<locale>`` button."""
    code = data.removeprefix("lang:")
    if code not in dict(LANGUAGES):
        return language_menu(), ()
    # Rendered after SetLocale applies, so each catalog names its own language here.
    return say("Done! From now on I will write to you in English."), (SetLocale(code),)


def stop() -> tuple[Say, tuple[Effect, ...]]:
    text = say(
        "Done: we will not send you surveys or reminders anymore. To undo this, send /start."
    )
    return text, (OptOut(),)


def mydata() -> tuple[Say, tuple[Effect, ...]]:
    return say("Here is a copy of the data we keep about you."), (ExportMyData(),)


def _forget_buttons() -> tuple[tuple[Button, ...], ...]:
    yes = button("Yes, delete my data", "forget:yes")
    no = button("No, keep it", "forget:no")
    return ((yes,), (no,))


def forget_question() -> Say:
    return say(
        "Do you want us to delete your data? Your personal details will be erased, your "
        "answers and tickets will be kept without your name, and this chat will be "
        "unlinked. This cannot be undone.",
        buttons=_forget_buttons(),
    )


def prompt(state: str, data: Mapping[str, JSONValue], facts: Facts | None = None) -> Say:
    """The question pending in ``state`` (used when a flow resumes)."""
    return forget_question()


def start_forget(data: Mapping[str, JSONValue]) -> Outcome:
    """/forget: ask for confirmation first."""
    return Outcome(State(FLOW, Account.CONFIRM_FORGET.value, dict(data)), (forget_question(),))


def handle(state: State, event: Event, facts: Facts, now: datetime) -> Outcome:
    """An answer to the /forget confirmation."""
    current = MACHINE.parse(state.state) or Account.CONFIRM_FORGET
    model = AccountStep(current, dict(state.data), facts, now)
    if isinstance(event, ButtonIn) and event.data in ("forget:yes", "forget:no"):
        MACHINE.fire(model, "confirm" if event.data == "forget:yes" else "decline")
    else:
        model.reply(
            say(
                "Please tap one of the buttons: do you want us to delete your data?",
                buttons=_forget_buttons(),
            )
        )
    if model.state is Account.DONE:
        return Outcome(State(), tuple(model.replies), tuple(model.effects))
    return model.outcome(FLOW)
