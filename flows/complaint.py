"""Reporting a problem: category, which order, a description, then a numbered ticket."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum

from flows import idle
from flows.effects import CATEGORIES, OpenTicket
from flows.events import ButtonIn, CommandIn, Event, TextIn
from flows.inputs import as_int, get_int, get_str
from flows.machine import FlowMachine, Step
from flows.replies import N_, Button, Say, button, plain_button, say
from flows.spec import ButtonRoute, Command, FlowSpec, suspend
from flows.state import Facts, JSONValue, OrderRef, Outcome, State

FLOW = "complaint"
DESCRIPTION_MAX = 4000


class Complaint(Enum):
    """Where the customer stands in reporting a problem."""

    CATEGORY = "category"
    ORDER = "order"
    DESCRIPTION = "description"
    DONE = "done"


_OPEN = [Complaint.CATEGORY, Complaint.ORDER, Complaint.DESCRIPTION]
TRANSITIONS = [
    # several delivered orders: ask which one; otherwise the only one (or none) is taken
    {
        "trigger": "choose_category",
        "source": Complaint.CATEGORY,
        "dest": Complaint.ORDER,
        "conditions": "has_choice_of_orders",
        "before": "set_category",
    },
    {
        "trigger": "choose_category",
        "source": Complaint.CATEGORY,
        "dest": Complaint.DESCRIPTION,
        "before": ["set_category", "take_only_order"],
    },
    {
        "trigger": "choose_order",
        "source": Complaint.ORDER,
        "dest": Complaint.DESCRIPTION,
        "before": "set_order",
    },
    {
        "trigger": "describe",
        "source": Complaint.DESCRIPTION,
        "dest": Complaint.DONE,
        "after": "open_ticket",
    },
    {"trigger": "cancel", "source": _OPEN, "dest": Complaint.DONE, "after": "on_cancel"},
]

CATEGORY_LABELS = {
    "late_delivery": N_("Late delivery"),
    "damaged": N_("Damaged or defective"),
    "wrong_item": N_("Wrong item"),
    "return": N_("Return or exchange"),
    "other": N_("Something else"),
}
assert tuple(CATEGORY_LABELS) == CATEGORIES


class ComplaintStep(Step[Complaint]):
    """One step of a complaint."""

    def has_choice_of_orders(self, key: str) -> bool:
        return len(self.facts.orders) > 1

    def set_category(self, key: str) -> None:
        self.data["category"] = key

    def take_only_order(self, key: str) -> None:
        only = self.facts.orders[0] if len(self.facts.orders) == 1 else None
        self.data["order"] = only.id if only else None
        self.data["label"] = only.label if only else None

    def set_order(self, order_id: int | None) -> None:
        ref = next((o for o in self.facts.orders if o.id == order_id), None)
        self.data["order"] = ref.id if ref else None
        self.data["label"] = ref.label if ref else None

    def open_ticket(self, text: str) -> None:
        category = get_str(self.data, "category") or "other"
        self.effect(OpenTicket("complaint", category, get_int(self.data, "order"), text))
        self.reply(
            say(
                "Thank you! We opened ticket #{n}. Our team will answer you here; anything "
                "you write in this chat now will be added to the ticket.",
                n="$ticket",
            )
        )

    def on_cancel(self) -> None:
        self.reply(say("All right, I cancelled this report."))


MACHINE = FlowMachine(FLOW, Complaint, TRANSITIONS, Complaint.CATEGORY)
STATES = frozenset(s.value for s in _OPEN)
_CANCEL = (button("Cancel", "cancel"),)


def category_buttons() -> tuple[tuple[Button, ...], ...]:
    keys = list(CATEGORY_LABELS)
    rows = (keys[:2], keys[2:4], keys[4:])
    return tuple(tuple(button(CATEGORY_LABELS[k], f"cat:{k}") for k in row) for row in rows) + (
        _CANCEL,
    )


def order_buttons(facts: Facts) -> tuple[tuple[Button, ...], ...]:
    rows = tuple((plain_button(o.label, f"ord:{o.id}"),) for o in facts.orders)
    return rows + ((button("Another order", "ord:none"),), _CANCEL)


def prompt(state: str, data: Mapping[str, JSONValue], facts: Facts) -> Say:
    """The question pending in ``state``."""
    if state == Complaint.ORDER.value:
        return say("Which order is it about?", buttons=order_buttons(facts))
    if state == Complaint.DESCRIPTION.value:
        label = get_str(data, "label")
        if label:
            return say(
                "Please describe the problem with order {order} in a few words.",
                buttons=(_CANCEL,),
                order=label,
            )
        return say("Please describe the problem in a few words.", buttons=(_CANCEL,))
    return say("What is the problem about?", buttons=category_buttons())


def start(data: Mapping[str, JSONValue]) -> Outcome:
    """/problem or the menu button: ask for the category."""
    return Outcome(
        State(FLOW, Complaint.CATEGORY.value, dict(data)),
        (say("What is the problem about?", buttons=category_buttons()),),
    )


def handle(state: State, event: Event, facts: Facts, now: datetime) -> Outcome:
    """One customer event while a complaint is being reported."""
    current = MACHINE.parse(state.state) or Complaint.CATEGORY
    model = ComplaintStep(current, dict(state.data), facts, now)
    if not _take(model, event):
        model.reply(_reprompt(model, facts))
    if model.state is Complaint.DONE:
        return Outcome(State(), tuple(model.replies), tuple(model.effects))
    if model.state is not current:
        model.reply(prompt(model.state.value, model.data, facts))
    return model.outcome(FLOW)


def _take(model: ComplaintStep, event: Event) -> bool:
    """Fire the trigger the event means; False when it means nothing here."""
    if isinstance(event, ButtonIn):
        data = event.data
        if data == "cancel":
            return MACHINE.fire(model, "cancel")
        if data.startswith("cat:") and data[4:] in CATEGORY_LABELS:
            return MACHINE.fire(model, "choose_category", data[4:])
        if data.startswith("ord:") and model.state is Complaint.ORDER:
            if data == "ord:none":
                return MACHINE.fire(model, "choose_order", None)
            order_id = as_int(data[4:])
            if any(o.id == order_id for o in model.facts.orders):
                return MACHINE.fire(model, "choose_order", order_id)
        return False
    if isinstance(event, TextIn) and model.state is Complaint.DESCRIPTION:
        text = event.text.strip()[:DESCRIPTION_MAX]
        return bool(text) and MACHINE.fire(model, "describe", text)
    return False


def _reprompt(model: ComplaintStep, facts: Facts) -> Say:
    if model.state is Complaint.ORDER:
        return say("Please choose the order with the buttons below.", buttons=order_buttons(facts))
    if model.state is Complaint.DESCRIPTION:
        return say("Please describe the problem in a text message.", buttons=(_CANCEL,))
    return say("Please choose one of the options below.", buttons=category_buttons())


def _problem(state: State, event: CommandIn, facts: Facts, now: datetime) -> Outcome:
    return start(suspend(state))


def _menu_button(state: State, event: ButtonIn, facts: Facts, now: datetime) -> Outcome | None:
    return start(suspend(state)) if event.data == "menu:problem" else None


LATE_OPENED = N_(
    "Thank you for telling us. We opened ticket #{n} about the delivery: our team will "
    "answer you here, and anything you write in this chat now will be added to the ticket."
)
LATE_ALREADY_OPEN = N_(
    "Your ticket #{n} is open: our team will answer you here, and anything you write in "
    "this chat is added to it."
)


def talk_to_us(order: OrderRef) -> tuple[tuple[Button, ...], ...]:
    """The button of a delivery notice that opens a "late delivery" ticket about ``order``."""
    return ((button("Talk to us", f"late:{order.id}"),),)


def _late_button(state: State, event: ButtonIn, facts: Facts, now: datetime) -> Outcome:
    """Pressed on a delay or failed-delivery notice, in any flow: one tap, one ticket
    (pressed again while it is open, the customer is told where it stands)."""
    if facts.active_ticket is not None:
        return Outcome(state, (say(LATE_ALREADY_OPEN, n=facts.active_ticket),))
    order_id = as_int(event.data.partition(":")[2])  # checked as the customer's own
    opened = OpenTicket("complaint", "late_delivery", order_id, None)
    return Outcome(state, (say(LATE_OPENED, n="$ticket"),), (opened,))


PROBLEM = Command(
    "problem",
    _problem,
    help=N_("/problem - report a problem with an order"),
    menu=N_("Report a problem with an order"),
)
BUTTONS = (
    ButtonRoute("menu", _menu_button),  # the idle menu's way in, pressed anywhere
    ButtonRoute("late", _late_button),  # a delivery notice's "talk to us", anywhere
    *(ButtonRoute(kind, idle.stale, owner=FLOW) for kind in ("cat", "ord", "cancel")),
)
# needs_orders: the order question lists the customer's orders
SPEC = FlowSpec(FLOW, STATES, handle, prompt, (PROBLEM,), BUTTONS, needs_orders=True)
