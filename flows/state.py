"""What a flow step reads and returns: facts, the persisted state, the outcome."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from flows.effects import Effect
from flows.replies import Say

JSONValue: TypeAlias = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]


@dataclass(frozen=True)
class OrderRef:
    """A delivered order as the customer sees it, e.g. ``OrderRef(7, "#A123 (12/03)")``."""

    id: int
    label: str


@dataclass(frozen=True)
class Facts:
    """What the engine gathered about the chat before a step."""

    linked: bool
    customer_name: str | None = None
    orders: tuple[OrderRef, ...] = ()  # delivered orders, newest first (<= 5)
    active_ticket: int | None = None  # open / waiting_customer ticket id
    opted_out: bool = False
    # The engine's result of /start <token> or a shared contact: "linked",
    # "linked_shared" (a phone several customers share: the latest buyer's account),
    # "already_linked", "used", "unknown", "no_match", "not_own".
    link: str | None = None


@dataclass(frozen=True)
class State:
    """A conversation's persisted position: flow name, state name and the flow's data."""

    flow: str = "idle"
    state: str = "idle"
    data: Mapping[str, JSONValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The result of a step: the new state, the replies to send, the effects to apply."""

    state: State
    replies: tuple[Say, ...] = ()
    effects: tuple[Effect, ...] = ()
