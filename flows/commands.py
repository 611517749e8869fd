"""Customer commands: /language, /stop, /mydata and /forget (with confirmation)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum

from flows import idle
from flows.effects import Effect, ExportMyData, ForgetMe, OptOut, SetLocale
from flows.events import ButtonIn, CommandIn, Event
from flows.locales import LANGUAGES
from flows.machine import FlowMachine, Step
from flows.replies import N_, Button, Say, button, plain_button, say
from flows.spec import ButtonRoute, Command, FlowSpec, suspend
from flows.state import Facts, JSONValue, Outcome, State

FLOW = "account"

# A button that asks for more of a message the bot no longer has (WhatsApp pickers).
GONE_MESSAGE = N_("That message is no longer available. Send /help to see what I can do.")


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


def _language(state: State, event: CommandIn, facts: Facts, now: datetime) -> Outcome:
    return Outcome(state, (language_menu(),))


def _stop(state: State, event: CommandIn, facts: Facts, now: datetime) -> Outcome:
    text, effects = stop()
    return Outcome(State(), (text,), effects)  # nothing is pending after opting out


def _mydata(state: State, event: CommandIn, facts: Facts, now: datetime) -> Outcome:
    text, effects = mydata()
    return Outcome(state, (text,), effects)


def _forget(state: State, event: CommandIn, facts: Facts, now: datetime) -> Outcome:
    return start_forget(suspend(state))


def _language_button(state: State, event: ButtonIn, facts: Facts, now: datetime) -> Outcome | None:
    if not event.data.startswith("lang:"):
        return None
    text, effects = choose_language(event.data)
    return Outcome(state, (text,), effects)


def _forget_elsewhere(state: State, event: ButtonIn, facts: Facts, now: datetime) -> Outcome | None:
    if not event.data.startswith("forget:"):
        return None
    return idle.stale(state, event, facts, now)


COMMANDS = (
    Command(
        "language",
        _language,
        help=N_("/language - choose your language"),
        menu=N_("Change the language"),
        linked=False,
    ),
    Command(
        "stop",
        _stop,
        N_("/stop - stop receiving surveys and reminders"),
        N_("Stop surveys and reminders"),
    ),
    Command(
        "mydata",
        _mydata,
        N_("/mydata - get a copy of the data we keep about you"),
        N_("Get a copy of your data"),
    ),
    Command("forget", _forget, N_("/forget - delete your data"), N_("Delete your data")),
)
BUTTONS = (
    ButtonRoute("lang", _language_button, linked=False),  # the language menu, anywhere
    ButtonRoute("forget", _forget_elsewhere, owner=FLOW),
)
SPEC = FlowSpec(FLOW, STATES, handle, prompt, COMMANDS, BUTTONS)
