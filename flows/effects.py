"""Domain effects a flow asks the engine to carry out (in the update's transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

TicketSource: TypeAlias = Literal["complaint", "detractor"]
CATEGORIES = ("late_delivery", "damaged", "wrong_item", "return", "other")
"""Complaint ticket categories; detractor tickets use the category ``"detractor"``."""


@dataclass(frozen=True)
class RecordScore:
    """Store an NPS (0-10) or CSAT (1-5) answer."""

    kind: Literal["nps", "csat"]
    score: int
    followup_id: int | None


@dataclass(frozen=True)
class RecordReason:
    """Attach the free-text reason to the follow-up's NPS answer (or comment to its CSAT)."""

    followup_id: int | None
    text: str
    kind: str = "nps"


@dataclass(frozen=True)
class CompleteSurvey:
    """Mark the follow-up answered."""

    followup_id: int


@dataclass(frozen=True)
class OpenTicket:
    """Open a ticket; a reply param ``"$ticket"`` in the same step becomes its number."""

    source: TicketSource
    category: str
    order_id: int | None
    description: str | None


@dataclass(frozen=True)
class AddToTicket:
    """Add the customer's message to their open ticket."""

    ticket_id: int
    text: str


@dataclass(frozen=True)
class CloseTicket:
    """The customer confirmed the ticket is solved."""

    ticket_id: int


@dataclass(frozen=True)
class ReopenTicket:
    """The customer said the ticket is not solved."""

    ticket_id: int


@dataclass(frozen=True)
class RateTicket:
    """The customer's 1-5 rating of the support on a ticket."""

    ticket_id: int
    rating: int


@dataclass(frozen=True)
class AskForReview:
    """Ask a promoter to review ``order_id`` in the store (after this step's replies)."""

    order_id: int | None


@dataclass(frozen=True)
class OptOut:
    """Stop contacting the customer (surveys, reminders)."""


@dataclass(frozen=True)
class OptIn:
    """Contact the customer again."""


@dataclass(frozen=True)
class SetLocale:
    """The customer's chosen language (one of ``bot.i18n.LOCALES``)."""

    locale: str


@dataclass(frozen=True)
class ExportMyData:
    """Send the customer a copy of their data."""


@dataclass(frozen=True)
class ForgetMe:
    """Delete the customer's personal data and unlink the chat."""


Effect: TypeAlias = (
    RecordScore
    | RecordReason
    | CompleteSurvey
    | OpenTicket
    | AddToTicket
    | CloseTicket
    | ReopenTicket
    | RateTicket
    | AskForReview
    | OptOut
    | OptIn
    | SetLocale
    | ExportMyData
    | ForgetMe
)
