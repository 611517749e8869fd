"""Domain events: what happened in a transaction that others react to in that transaction.

Effects and the SLA watch emit them; the handlers (operator alerts) are looked up in
the table the bootstrap builds (``bot.bootstrap.event_handlers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias, get_args


@dataclass(frozen=True, slots=True)
class TicketOpened:
    """A customer's complaint became a ticket."""

    ticket_id: int
    channel: str  # the customer's channel
    at: datetime


@dataclass(frozen=True, slots=True)
class Detractor:
    """A detractor's NPS answer opened a ticket."""

    ticket_id: int
    channel: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TicketReopened:
    """The customer said a resolved ticket is not solved."""

    ticket_id: int
    channel: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SlaWarning:
    """A ticket is about to miss (or has missed) a service-level target."""

    ticket_id: int
    kind: str  # "first_response" or "resolution"
    remaining_bs: int  # business seconds left; negative once breached
    due_at: datetime
    at: datetime


@dataclass(frozen=True, slots=True)
class ChannelHalted:
    """A channel's server stopped our sending for a while (WhatsApp's spam limit, a
    revoked token): nothing is lost, but someone must look."""

    channel: str
    reason: str
    until: datetime  # sending is tried again then
    at: datetime


DomainEvent: TypeAlias = TicketOpened | Detractor | TicketReopened | SlaWarning | ChannelHalted
EVENT_TYPES: tuple[type, ...] = get_args(DomainEvent)
